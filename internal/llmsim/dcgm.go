package llmsim

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// EngineDCGM is NVIDIA dcgm-exporter (GPU Operator v25.10 layout, pod mapping on).
const EngineDCGM = "dcgm"

// Simulated GPU model: an 80 GB A100.
const (
	gpuModelName = "NVIDIA A100-SXM4-80GB"
	gpuFBTotal   = 81920.0 // MiB
	gpuFBReserve = 533.0
	gpuIdleW     = 62.0
	gpuMaxW      = 400.0
	driverVer    = "580.95.05"
)

// gpu follows the load of the pod it is assigned to.
type gpu struct {
	index     int
	uuid      string
	busID     string
	container string

	util, tensor, dram float64 // 0..1
	power, temp        float64
	energyMJ           float64 // counter, millijoules since boot
	nvlinkBytes        float64 // counter
	pcieTx, pcieRx     float64 // bytes/s
	fbUsed             float64 // MiB
	smClock            float64 // MHz
}

func newGPU(index int, host string) *gpu {
	// Stable, realistic-looking identifiers derived from node and index.
	h := fnv32(host)
	return &gpu{
		index:     index,
		uuid:      fmt.Sprintf("GPU-%08x-%04x-%04x-%04x-%012x", h, index, 0x4a3b, 0x8c9d, uint64(h)*uint64(index+1)),
		busID:     fmt.Sprintf("00000000:%02X:00.0", 0x10+index*0x10),
		container: "engine",
		temp:      32,
		energyMJ:  float64(h%1000) * 1e6,
		smClock:   210,
	}
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// step moves the GPU towards the state its pod's load implies.
func (g *gpu) step(p *pod, dt float64) {
	busy := 0.0
	if len(p.running) > 0 {
		busy = math.Min(1, 0.55+0.9*p.load())
	}
	noise := 0.03 * p.rng.NormFloat64()
	g.util = clamp01(busy + noise*busy)
	g.tensor = clamp01(0.6*g.util + 0.02*p.rng.Float64())
	g.dram = clamp01(0.45*g.util + 0.25*p.kvUsage()*g.util)
	// vLLM and SGLang pre-allocate ~90% of memory for weights and KV cache at start.
	g.fbUsed = math.Round(0.9*gpuFBTotal + 300*p.kvUsage())
	g.power = gpuIdleW + (gpuMaxW-gpuIdleW)*g.util*(0.9+0.1*p.rng.Float64())
	// Temperature lags power (first-order, ~30 s time constant).
	target := 30 + 0.12*g.power
	g.temp += (target - g.temp) * math.Min(1, dt/30)
	g.energyMJ += g.power * dt * 1000
	g.pcieTx = 2e6 + 4e8*g.util*p.rng.Float64()
	g.pcieRx = 1e6 + 1e8*g.util*p.rng.Float64()
	g.nvlinkBytes += 5e9 * g.util * dt
	if g.util > 0.05 {
		g.smClock = 1410
	} else {
		g.smClock = 210
	}
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// renderDCGM writes dcgm-exporter's exposition for the node's GPUs, with the pod-mapping labels
// of the pod each GPU is assigned to (label order as dcgm-exporter's template, not sorted).
func renderDCGM(b *bytes.Buffer, host string, pods []*pod) {
	type row struct {
		g *gpu
		p *pod
	}
	var rows []row
	for _, p := range pods {
		for _, g := range p.gpus {
			rows = append(rows, row{g, p})
		}
	}
	fields := []struct {
		name, typ, help string
		value           func(*gpu) string
	}{
		{"DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", func(g *gpu) string { return itoa(int(g.smClock)) }},
		{"DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).", func(*gpu) string { return "1593" }},
		{"DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C).", func(g *gpu) string { return itoa(int(g.temp) + 4) }},
		{"DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", func(g *gpu) string { return itoa(int(g.temp)) }},
		{"DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", func(g *gpu) string { return fmt.Sprintf("%f", g.power) }},
		{"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "Total energy consumption since boot (in mJ).", func(g *gpu) string { return strconv.FormatUint(uint64(g.energyMJ), 10) }},
		{"DCGM_FI_DEV_PCIE_REPLAY_COUNTER", "counter", "Total number of PCIe retries.", func(*gpu) string { return "0" }},
		{"DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", func(g *gpu) string { return itoa(int(math.Round(100 * g.util))) }},
		{"DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).", func(g *gpu) string { return itoa(int(math.Round(100 * g.dram))) }},
		{"DCGM_FI_DEV_ENC_UTIL", "gauge", "Encoder utilization (in %).", func(*gpu) string { return "0" }},
		{"DCGM_FI_DEV_DEC_UTIL", "gauge", "Decoder utilization (in %).", func(*gpu) string { return "0" }},
		{"DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered.", func(*gpu) string { return "0" }},
		{"DCGM_FI_DEV_FB_FREE", "gauge", "Frame buffer memory free (in MiB).", func(g *gpu) string { return itoa(int(gpuFBTotal - gpuFBReserve - g.fbUsed)) }},
		{"DCGM_FI_DEV_FB_USED", "gauge", "Frame buffer memory used (in MiB).", func(g *gpu) string { return itoa(int(g.fbUsed)) }},
		{"DCGM_FI_DEV_FB_RESERVED", "gauge", "Frame buffer memory reserved (in MiB).", func(*gpu) string { return itoa(int(gpuFBReserve)) }},
		{"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for uncorrectable errors", func(*gpu) string { return "0" }},
		{"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for correctable errors", func(*gpu) string { return "0" }},
		{"DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed", func(*gpu) string { return "0" }},
		{"DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", "counter", "Total number of NVLink bandwidth counters for all lanes.", func(g *gpu) string { return strconv.FormatUint(uint64(g.nvlinkBytes), 10) }},
		{"DCGM_FI_DEV_VGPU_LICENSE_STATUS", "gauge", "vGPU License status", func(*gpu) string { return "0" }},
		{"DCGM_FI_PROF_GR_ENGINE_ACTIVE", "gauge", "Ratio of time the graphics engine is active.", func(g *gpu) string { return fmt.Sprintf("%f", g.util*0.97) }},
		{"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor (HMMA) pipe is active.", func(g *gpu) string { return fmt.Sprintf("%f", g.tensor) }},
		{"DCGM_FI_PROF_DRAM_ACTIVE", "gauge", "Ratio of cycles the device memory interface is active sending or receiving data.", func(g *gpu) string { return fmt.Sprintf("%f", g.dram) }},
		{"DCGM_FI_PROF_PCIE_TX_BYTES", "gauge", "The rate of data transmitted over the PCIe bus - including both protocol headers and data payloads - in bytes per second.", func(g *gpu) string { return strconv.FormatUint(uint64(g.pcieTx), 10) }},
		{"DCGM_FI_PROF_PCIE_RX_BYTES", "gauge", "The rate of data received over the PCIe bus - including both protocol headers and data payloads - in bytes per second.", func(g *gpu) string { return strconv.FormatUint(uint64(g.pcieRx), 10) }},
	}
	for _, f := range fields {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.typ)
		for _, r := range rows {
			fmt.Fprintf(b, "%s{gpu=\"%d\",UUID=\"%s\",pci_bus_id=\"%s\",device=\"nvidia%d\",modelName=\"%s\",Hostname=\"%s\",DCGM_FI_DRIVER_VERSION=\"%s\",container=\"%s\",namespace=\"%s\",pod=\"%s\",pod_uid=\"\"} %s\n",
				f.name, r.g.index, r.g.uuid, r.g.busID, r.g.index, gpuModelName, host, driverVer, r.g.container, r.p.spec.Namespace, r.p.spec.Name, f.value(r.g))
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

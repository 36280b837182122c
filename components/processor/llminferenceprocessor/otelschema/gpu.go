package otelschema

// GPUMetric is the OpenTelemetry form of one dcgm-exporter field.
type GPUMetric struct {
	Metric
	// Scale converts the field's unit to Unit (MiB to bytes, percent to a fraction, ...); 0 is 1.
	Scale float64
	// Set are attributes the convention requires to tell this source apart (hw.gpu.task,
	// hw.type, hw.sensor_location, ...), as key/value pairs.
	Set [][2]string
}

// GPUMetrics maps dcgm-exporter fields to the hardware conventions where one defines the same
// quantity, else to llm_inference.gpu.* names. Fields not listed keep their DCGM name (with the
// attributes renamed): DCGM's names are what GPU operators know, and a name we made up for a
// field whose unit we cannot confirm would say less.
var GPUMetrics = map[string]GPUMetric{
	"DCGM_FI_DEV_GPU_UTIL": {Metric: Metric{Name: "hw.gpu.utilization", Unit: "1", Instrument: Gauge, Convention: HardwareConvention,
		Note: "DCGM reports percent; the convention a fraction."}, Scale: 0.01, Set: [][2]string{{"hw.gpu.task", "general"}}},
	"DCGM_FI_DEV_ENC_UTIL": {Metric: Metric{Name: "hw.gpu.utilization", Unit: "1", Instrument: Gauge, Convention: HardwareConvention},
		Scale: 0.01, Set: [][2]string{{"hw.gpu.task", "encoder"}}},
	"DCGM_FI_DEV_DEC_UTIL": {Metric: Metric{Name: "hw.gpu.utilization", Unit: "1", Instrument: Gauge, Convention: HardwareConvention},
		Scale: 0.01, Set: [][2]string{{"hw.gpu.task", "decoder"}}},
	"DCGM_FI_DEV_FB_USED": {Metric: Metric{Name: "hw.gpu.memory.usage", Unit: "By", Instrument: UpDownCounter, Convention: HardwareConvention,
		Note: "DCGM reports MiB."}, Scale: 1 << 20},
	"DCGM_FI_DEV_FB_FREE":     {Metric: Metric{Name: "llm_inference.gpu.memory.free", Unit: "By", Instrument: UpDownCounter}, Scale: 1 << 20},
	"DCGM_FI_DEV_FB_RESERVED": {Metric: Metric{Name: "llm_inference.gpu.memory.reserved", Unit: "By", Instrument: UpDownCounter}, Scale: 1 << 20},
	"DCGM_FI_DEV_MEM_COPY_UTIL": {Metric: Metric{Name: "llm_inference.gpu.memory_copy.utilization", Unit: "1", Instrument: Gauge,
		Note: "Memory-bandwidth busy time: not hw.gpu.memory.utilization, which is the fraction of memory in use."}, Scale: 0.01},
	"DCGM_FI_DEV_POWER_USAGE": {Metric: Metric{Name: "hw.power", Unit: "W", Instrument: Gauge, Convention: HardwareConvention},
		Set: [][2]string{{"hw.type", "gpu"}}},
	"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": {Metric: Metric{Name: "hw.energy", Unit: "J", Instrument: Counter, Convention: HardwareConvention,
		Note: "DCGM reports mJ since boot."}, Scale: 0.001, Set: [][2]string{{"hw.type", "gpu"}}},
	"DCGM_FI_DEV_GPU_TEMP": {Metric: Metric{Name: "hw.temperature", Unit: "Cel", Instrument: Gauge, Convention: HardwareConvention},
		Set: [][2]string{{"hw.sensor_location", "gpu"}}},
	"DCGM_FI_DEV_MEMORY_TEMP": {Metric: Metric{Name: "hw.temperature", Unit: "Cel", Instrument: Gauge, Convention: HardwareConvention},
		Set: [][2]string{{"hw.sensor_location", "memory"}}},
	"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL": {Metric: Metric{Name: "hw.errors", Unit: "{error}", Instrument: Counter, Convention: HardwareConvention},
		Set: [][2]string{{"hw.type", "gpu"}, {"error.type", "corrected"}}},
	"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": {Metric: Metric{Name: "hw.errors", Unit: "{error}", Instrument: Counter, Convention: HardwareConvention},
		Set: [][2]string{{"hw.type", "gpu"}, {"error.type", "uncorrected"}}},
	"DCGM_FI_DEV_SM_CLOCK": {Metric: Metric{Name: "llm_inference.gpu.clock.frequency", Unit: "Hz", Instrument: Gauge},
		Scale: 1e6, Set: [][2]string{{"llm_inference.gpu.clock", "sm"}}},
	"DCGM_FI_DEV_MEM_CLOCK": {Metric: Metric{Name: "llm_inference.gpu.clock.frequency", Unit: "Hz", Instrument: Gauge},
		Scale: 1e6, Set: [][2]string{{"llm_inference.gpu.clock", "memory"}}},
	"DCGM_FI_PROF_GR_ENGINE_ACTIVE": {Metric: Metric{Name: "llm_inference.gpu.graphics_engine.utilization", Unit: "1", Instrument: Gauge,
		Note: "A finer measure of the same activity as DCGM_FI_DEV_GPU_UTIL; kept apart so hw.gpu.utilization has one source."}},
	"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": {Metric: Metric{Name: "llm_inference.gpu.tensor_pipe.utilization", Unit: "1", Instrument: Gauge}},
	"DCGM_FI_PROF_DRAM_ACTIVE":        {Metric: Metric{Name: "llm_inference.gpu.dram.utilization", Unit: "1", Instrument: Gauge}},
	"DCGM_FI_PROF_PCIE_TX_BYTES": {Metric: Metric{Name: "llm_inference.gpu.pcie.throughput", Unit: "By/s", Instrument: Gauge,
		Note: "A rate, not the byte counter hw.gpu.io is: integrating it would invent data."}, Set: [][2]string{{"network.io.direction", "transmit"}}},
	"DCGM_FI_PROF_PCIE_RX_BYTES": {Metric: Metric{Name: "llm_inference.gpu.pcie.throughput", Unit: "By/s", Instrument: Gauge},
		Set: [][2]string{{"network.io.direction", "receive"}}},
	"DCGM_FI_DEV_PCIE_REPLAY_COUNTER": {Metric: Metric{Name: "llm_inference.gpu.pcie.replays", Unit: "{replay}", Instrument: Counter}},
	"DCGM_FI_DEV_XID_ERRORS": {Metric: Metric{Name: "llm_inference.gpu.xid.last", Unit: "", Instrument: Gauge,
		Note: "The last XID error code, not a count: no hw.errors."}},
}

// GPUAttributes renames dcgm-exporter's labels (and those the GPU join adds) to convention
// attributes where one exists.
var GPUAttributes = map[string]string{
	"UUID":                   "hw.id",
	"uuid":                   "hw.id",
	"modelName":              "hw.model",
	"device":                 "hw.name",
	"DCGM_FI_DRIVER_VERSION": "hw.driver_version",
	"gpu":                    "llm_inference.gpu.index",
	"pci_bus_id":             "llm_inference.gpu.pci_bus_id",
	"Hostname":               "host.name",
	"hostname":               "host.name",
	"namespace":              "k8s.namespace.name",
	"pod":                    "k8s.pod.name",
	"container":              "k8s.container.name",
	"pod_uid":                "k8s.pod.uid",
	"workload_name":          "llm_inference.workload.name",
	"backend":                "llm_inference.backend",
	"inference_role":         "llm_inference.role",
	"model_name":             "gen_ai.request.model",
}

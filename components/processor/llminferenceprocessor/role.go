package llminferenceprocessor

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// The roles a pod can have in a prefill/decode (PD) deployment, the values of inference_role
// (ARMS calls the same label rbg_role).
const (
	lblRole = "inference_role"

	rolePrefill = "prefill"
	roleDecode  = "decode"
	// roleBoth is aggregated serving: one engine does prefill and decode (the default).
	roleBoth   = "both"
	roleRouter = "router"
)

// normRole maps the spellings of a role that pods and engines use onto the four values; other
// values pass through lower-cased (a RoleBasedGroup's roles are named by its author).
func normRole(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "prefill", "prefiller", "kv_producer":
		return rolePrefill
	case "decode", "decoder", "kv_consumer":
		return roleDecode
	case "both", "unified", "aggregated", "prefill_and_decode", "kv_both":
		return roleBoth
	case "router", "gateway", "frontend":
		return roleRouter
	}
	return v
}

// roleOf is the role the engine's own metrics state: router when the scrape has the engine's
// router metrics, else the first role one of its role labels names ("" when they say nothing).
func (e *engine) roleOf(ms pmetric.MetricSlice) string {
	if e.routerPrefix != "" {
		for i := 0; i < ms.Len(); i++ {
			if strings.HasPrefix(ms.At(i).Name(), e.routerPrefix) {
				return roleRouter
			}
		}
	}
	for _, l := range e.roleLabels {
		// Only a role counts: under Dynamo, TensorRT-LLM's engine_type is "trtllm", and its
		// disaggregation_mode is the one that tells.
		switch v := normRole(firstValue(ms, l)); v {
		case rolePrefill, roleDecode, roleBoth:
			return v
		}
	}
	return ""
}

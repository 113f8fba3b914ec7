package sweep

// Names of the deployment columns (SLO, replicas, cost, Pareto) agreed for
// the sweep rows; the xlsx Answer and Charts sheets use them when a schema
// has them and fall back to the columns above when it does not.
const (
	ColPP                   = "pp"
	ColReplicas             = "replicas"
	ColGPUsPerNode          = "gpus_per_node"
	ColNodes                = "nodes"
	ColMeetsSLO             = "meets_slo"
	ColBindingLimit         = "binding_limit"
	ColReplicasNeeded       = "replicas_needed"
	ColGPUsNeeded           = "gpus_needed"
	ColNodesNeeded          = "nodes_needed"
	ColTTFTP50Ms            = "ttft_p50_ms"
	ColTTFTP90Ms            = "ttft_p90_ms"
	ColTPOTP50Ms            = "tpot_p50_ms"
	ColTPOTP90Ms            = "tpot_p90_ms"
	ColE2EP50Ms             = "e2e_p50_ms"
	ColE2EP90Ms             = "e2e_p90_ms"
	ColTokSPerUser          = "tok_s_per_user"
	ColSLOHeadroom          = "slo_headroom"
	ColPriceMissing         = "price_missing"
	ColPriceSource          = "price_source"
	ColUSDPerHour           = "usd_per_hour"
	ColUSDPerMonth          = "usd_per_month"
	ColUSDPerMInputTokens   = "usd_per_m_input_tokens"
	ColUSDPerMBlendedTokens = "usd_per_m_blended_tokens"
	ColOwnedUSDPerGPUHour   = "owned_usd_per_gpu_hour"
	ColTCOUSDPerMonth       = "tco_usd_per_month"
	ColQualityClass         = "quality_class"
	ColPareto               = "pareto"
)

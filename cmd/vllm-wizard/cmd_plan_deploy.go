package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/vllm-wizard/vllm-wizard/baselines"
	"github.com/vllm-wizard/vllm-wizard/cmd/vllm-wizard/internal/numflag"
	"github.com/vllm-wizard/vllm-wizard/planner"
	"github.com/vllm-wizard/vllm-wizard/planner/deploy"
	"github.com/vllm-wizard/vllm-wizard/reports/console"
	"github.com/vllm-wizard/vllm-wizard/sweep"
)

// deployFlags are plan's target-load, SLO and cost flags: with a target
// load, plan answers with the cheapest deployment meeting the SLO.
type deployFlags struct {
	requestRate              float64
	users                    int
	thinkS                   float64
	promptP90, genP90        float64
	promptShape, genShape    string
	sloTTFT, sloTPOT, sloE2E float64
	sloPct                   int
	sloMinTokS               float64
	gpusPerNode              int
	pp                       int
	maxGPUs                  int
	scaleOut                 string
	scaleOutGBs, scaleOutUs  float64
	prices                   string
	years, powerUtil, pue    float64
	kwh                      float64
}

func (d *deployFlags) register(fs *pflag.FlagSet) {
	numflag.Float(fs, &d.requestRate, "request-rate", 0, 0, 1e7, "target load in requests/s (Poisson arrivals): plan answers with the cheapest deployment meeting the SLO")
	numflag.Int(fs, &d.users, "users", "", 0, 0, 100000000, "target load as concurrent users, each sending the next request when one ends (closed loop)")
	numflag.Float(fs, &d.thinkS, "think-time-s", 0, 0, 1e6, "with --users: seconds a user waits between a response and the next request")
	numflag.Float(fs, &d.promptP90, "prompt-p90", 0, 0, 1<<24, "p90 prompt tokens (log-normal around --prompt-tokens; default: every prompt the mean)")
	numflag.Float(fs, &d.genP90, "gen-p90", 0, 0, 1<<24, "p90 generated tokens (log-normal around --gen-tokens)")
	fs.StringVar(&d.promptShape, "prompt-shape", "fixed", "prompt length shape without a p90: fixed or exponential")
	fs.StringVar(&d.genShape, "gen-shape", "fixed", "output length shape without a p90: fixed or exponential")
	numflag.Float(fs, &d.sloTTFT, "slo-ttft-ms", 0, 0, 1e9, "SLO: time to first token limit, ms")
	numflag.Float(fs, &d.sloTPOT, "slo-tpot-ms", 0, 0, 1e9, "SLO: time per output token limit, ms")
	numflag.Float(fs, &d.sloE2E, "slo-e2e-ms", 0, 0, 1e9, "SLO: end-to-end latency limit, ms")
	numflag.Int(fs, &d.sloPct, "slo-percentile", "", 90, 50, 90, "percentile the SLO limits hold at: 50 or 90")
	numflag.Float(fs, &d.sloMinTokS, "slo-min-tok-s", 0, 0, 1e6, "SLO: least output tokens/s each user must see")
	numflag.Int(fs, &d.gpusPerNode, "gpus-per-node", "", 0, 0, 1024, "GPUs per server (default: 8 for HGX/OAM and data-centre PCIe servers, 4 for workstation cards, 72 for NVL72)")
	numflag.Int(fs, &d.pp, "pp", "", 0, 0, 64, "pipeline-parallel size to plan for (default: searched)")
	numflag.Int(fs, &d.maxGPUs, "max-gpus", "", 4096, 1, 1<<20, "largest deployment to consider, in GPUs")
	fs.StringVar(&d.scaleOut, "scaleout", "infiniband", "link between nodes for pipeline stages: infiniband, roce or ethernet")
	numflag.Float(fs, &d.scaleOutGBs, "scaleout-gbs", 0, 0, 1e5, "scale-out bandwidth per GPU in GB/s (overrides the link class)")
	numflag.Float(fs, &d.scaleOutUs, "scaleout-latency-us", 0, 0, 1e6, "scale-out one-way latency in µs (overrides the link class)")
	fs.StringVar(&d.prices, "prices", "", "CSV of GPU prices (gpu,usd_per_gpu_hour) overriding the catalog's median on-demand prices")
	numflag.Float(fs, &d.years, "amortisation-years", deploy.DefaultCost.AmortisationYears, 0.1, 30, "owned cost: years the purchase price is spread over")
	numflag.Float(fs, &d.powerUtil, "power-utilization", deploy.DefaultCost.PowerUtilization, 0.01, 1, "owned cost: mean share of TDP drawn")
	numflag.Float(fs, &d.pue, "pue", deploy.DefaultCost.PUE, 1, 3, "owned cost: data-centre power usage effectiveness")
	numflag.Float(fs, &d.kwh, "usd-per-kwh", deploy.DefaultCost.USDPerKWh, 0, 10, "owned cost: electricity price, USD per kWh")
}

// active reports whether plan was given a target load.
func (d *deployFlags) active() bool { return d.requestRate != 0 || d.users != 0 }

// deployGPUs resolves --gpu for a deployment search: one name, a
// comma-separated list, or any (the whole catalog).
func deployGPUs(name string, vramGB, memBW float64) ([]planner.GPU, error) {
	if strings.EqualFold(strings.TrimSpace(name), "any") || strings.EqualFold(strings.TrimSpace(name), "all") {
		return planner.GPUs(), nil
	}
	var out []planner.GPU
	for _, n := range strings.Split(name, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		g, err := planner.DescribeGPU(n, vramGB, memBW)
		if err != nil {
			return nil, usageError{err}
		}
		out = append(out, g)
	}
	if len(out) == 0 {
		return nil, usagef(`--gpu is required: a catalog name, a comma-separated list, or "any"`)
	}
	return out, nil
}

// runDeployPlan answers plan with a target load.
func (a *app) runDeployPlan(ctx context.Context, f *planFlags, d *deployFlags, asJSON bool) error {
	if err := f.applyProfile(); err != nil {
		return err
	}
	bs, err := baselines.Load(f.Baselines)
	if err != nil {
		return err
	}
	m, err := a.resolveModel(ctx, f.Model, f.Revision, f.ParamsB, f.offline)
	if err != nil {
		return err
	}
	gpus, err := deployGPUs(f.GPU, f.VRAMGB, f.MemBWGBs)
	if err != nil {
		return err
	}
	if d.prices != "" {
		if err := applyPriceFile(d.prices, gpus); err != nil {
			return err
		}
	}
	q, err := d.question(f, m, bs)
	if err != nil {
		return err
	}
	rep := console.DeployReport{Model: m.ID, Workload: q.Workload, SLO: q.SLO, Cost: q.Cost, PricesSource: planner.PriceCatalogSource(), Baselines: bs.Label()}
	if d.prices != "" {
		rep.PricesSource = "--prices " + d.prices + " (catalog medians for GPUs it does not list: " + planner.PriceCatalogSource() + ")"
	}
	// Each GPU type's search is independent and pure: one per CPU at a time
	// (--gpu any ranks ~40 types; 500 users with 5 s of think time take ~2 CPU-s).
	rep.GPUs = make([]console.GPUAnswer, len(gpus))
	eg, egCtx := errgroup.WithContext(ctx)
	eg.SetLimit(runtime.GOMAXPROCS(0))
	for i, g := range gpus {
		eg.Go(func() error {
			if err := egCtx.Err(); err != nil {
				return err
			}
			quality, ans := q.Answer(g)
			rep.GPUs[i] = console.GPUAnswer{GPU: g.Name, Quality: quality, Answer: ans}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sort.SliceStable(rep.GPUs, func(i, j int) bool { return console.RankLess(&rep.GPUs[i], &rep.GPUs[j]) })
	if asJSON {
		return writeJSON(a, rep.JSON())
	}
	return console.WriteDeploy(a.stdout, &rep)
}

// question is the deployment question the flags ask of model m.
func (d *deployFlags) question(f *planFlags, m planner.ModelConfig, bs *baselines.Set) (*deploy.Question, error) {
	pd, err := deploy.LengthDist(f.PromptTokens, d.promptP90, d.promptShape)
	if err != nil {
		return nil, usageError{fmt.Errorf("--prompt-tokens/--prompt-p90: %w", err)}
	}
	od, err := deploy.LengthDist(f.GenTokens, d.genP90, d.genShape)
	if err != nil {
		return nil, usageError{fmt.Errorf("--gen-tokens/--gen-p90: %w", err)}
	}
	link, err := deploy.ScaleOutLink(d.scaleOut, d.scaleOutGBs, d.scaleOutUs)
	if err != nil {
		return nil, usageError{err}
	}
	quant := f.Quantization
	if quant != "" {
		if quant, err = planner.NormalizeQuantization(quant); err != nil {
			return nil, usageError{err}
		}
	}
	kvd, err := planner.NormalizeKVCacheDtype(f.KVCacheDtype)
	if err != nil {
		return nil, usageError{err}
	}
	q := &deploy.Question{Model: m, Baselines: &bs.Baselines, Quantization: quant, KVCacheDtype: kvd, ContextLen: f.MaxModelLen,
		Policy:   planner.Policy{GPUMemoryUtilization: f.GPUMemUtil, OverheadGB: f.OverheadGB, FragmentationFactor: f.Fragmentation, HeadroomGB: f.HeadroomGB},
		Workload: deploy.Workload{Prompt: pd, Output: od, RequestRate: d.requestRate, Users: d.users, ThinkS: d.thinkS},
		SLO:      deploy.SLO{TTFTMs: d.sloTTFT, TPOTMs: d.sloTPOT, E2EMs: d.sloE2E, Percentile: d.sloPct, MinTokSPerUser: d.sloMinTokS},
		Cost:     deploy.CostParams{AmortisationYears: d.years, PowerUtilization: d.powerUtil, PUE: d.pue, USDPerKWh: d.kwh},
		ScaleOut: link, GPUsPerNode: d.gpusPerNode, TP: f.TP, PP: d.pp, MaxGPUs: d.maxGPUs}
	if err := q.Validate(); err != nil {
		return nil, usageError{err}
	}
	return q, nil
}

// applyPriceFile overrides the GPUs' on-demand prices from a --prices CSV.
func applyPriceFile(path string, gpus []planner.GPU) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open prices: %w", err)
	}
	defer fh.Close()
	prices, err := sweep.ParsePrices(fh)
	if err != nil {
		return usageError{fmt.Errorf("prices %s: %w", path, err)}
	}
	for n, v := range prices {
		g, err := planner.LookupGPU(n)
		name := n
		if err == nil {
			name = g.Name
		}
		for i := range gpus {
			if strings.EqualFold(gpus[i].Name, name) {
				gpus[i].PriceUSDPerHour, gpus[i].PriceSource = v.USDPerGPUHour, v.Source("--prices "+path)
			}
		}
	}
	return nil
}

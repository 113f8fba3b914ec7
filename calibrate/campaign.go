package calibrate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Job is one server configuration of a campaign: a model at a TP size.
type Job struct {
	// Model is the model to serve ("" with an endpoint: the served one).
	Model string
	// TP is the tensor-parallel size.
	TP int
	// ParamsB is the model size, if known.
	ParamsB Opt
}

// Launched is a server a Launcher started for a job.
type Launched struct {
	// URL is the server root.
	URL string
	// Command is the exact command line that started it.
	Command string
	// Stop stops it and waits for it to exit.
	Stop func() error
	// HTTPClient and Clock, when set, replace the run's for this server
	// (an in-memory fake brings its own transport and timeline).
	HTTPClient *http.Client
	Clock      Clock
}

// Launcher starts the server for one job.
type Launcher interface {
	Launch(ctx context.Context, job Job) (Launched, error)
}

// LauncherFunc adapts a function to Launcher.
type LauncherFunc func(ctx context.Context, job Job) (Launched, error)

// Launch calls f.
func (f LauncherFunc) Launch(ctx context.Context, job Job) (Launched, error) { return f(ctx, job) }

// ProcessLauncher starts `vllm serve` child processes with Launch: Config
// with each job's model and TP.
type ProcessLauncher struct {
	Config LaunchConfig
}

// Launch starts vllm serve for job and waits until it is ready.
func (p ProcessLauncher) Launch(ctx context.Context, job Job) (Launched, error) {
	cfg := p.Config
	cfg.Model, cfg.TP = job.Model, job.TP
	srv, err := Launch(ctx, cfg)
	if err != nil {
		return Launched{}, err
	}
	return Launched{URL: srv.URL, Command: srv.Command(), Stop: srv.Stop}, nil
}

// Campaign benchmarks a list of jobs in turn: against one running server
// (Endpoint), or starting and stopping one per job (Launcher).
type Campaign struct {
	// Jobs are run in order.
	Jobs []Job
	// Run is the protocol; BaseURL, Model, Hardware.TP, ParamsB,
	// LaunchCommand and the model labels are set per job.
	Run RunConfig
	// GPUCount is the GPUs per server; 0 means TP × PP.
	GPUCount int
	// PP is the pipeline-parallel size (0 or 1: none).
	PP int
	// Endpoint is the running server's root (attach mode) when Launcher is nil.
	Endpoint string
	// Launcher starts a server per job.
	Launcher Launcher
	// Sink stores each measurement as soon as it exists.
	Sink func(Measurement) error
	// Progress receives events (may be nil).
	Progress func(Event)
}

// CampaignResult is what a campaign did.
type CampaignResult struct {
	// Summaries has one entry per job that ran.
	Summaries []Summary
	// Measurements counts the stored records; Failed the jobs with errors.
	Measurements, Failed int
	// Elapsed is the campaign's time on the run clock.
	Elapsed time.Duration
}

// Execute runs the campaign. A job whose launch or phases fail is counted
// in Failed and the next one runs; Execute returns an error for a
// cancelled ctx, a failing sink, a model the server does not serve, a
// label the server contradicts, or any failure of a single-job campaign.
func (c Campaign) Execute(ctx context.Context) (res CampaignResult, err error) {
	progress := c.Progress
	if progress == nil {
		progress = func(Event) {}
	}
	clock := c.Run.Clock
	if clock == nil {
		clock = WallClock
	}
	start := clock.Now()
	defer func() { res.Elapsed = clock.Now().Sub(start) }()
	if c.Launcher == nil && c.Endpoint == "" {
		return res, errors.New("campaign has neither an endpoint nor a launcher")
	}
	prompts := c.Run.Prompts
	if prompts == nil {
		prompts = NewPromptCache()
	}
	for k, job := range c.Jobs {
		label := fmt.Sprintf("[model %d/%d %s]", k+1, len(c.Jobs), orServed(job.Model))
		cfg := c.Run
		cfg.Model, cfg.Prompts = job.Model, prompts
		cfg.ModelIndex, cfg.ModelCount = k+1, len(c.Jobs)
		cfg.Hardware.TP, cfg.Hardware.ParamsB = job.TP, job.ParamsB
		cfg.Hardware.GPUCount = c.GPUCount
		if cfg.Hardware.GPUCount == 0 {
			cfg.Hardware.GPUCount = job.TP * max(c.PP, 1)
		}
		cfg.BaseURL = c.Endpoint
		var stop func() error
		if c.Launcher != nil {
			progress(Event{Label: label, Model: job.Model, TP: job.TP, Kind: "launch", Message: fmt.Sprintf("starting vllm serve (tp %d)…", job.TP)})
			l, err := c.Launcher.Launch(ctx, job)
			if err != nil {
				if ctx.Err() != nil {
					return res, fmt.Errorf("calibrate %s: %w", job.Model, ctx.Err())
				}
				progress(Event{Label: label, Model: job.Model, TP: job.TP, Kind: "failed", Message: "launch", Err: err})
				res.Failed++
				continue
			}
			cfg.BaseURL, cfg.LaunchCommand, stop = l.URL, l.Command, l.Stop
			if l.HTTPClient != nil {
				cfg.HTTPClient = l.HTTPClient
			}
			if l.Clock != nil {
				cfg.Clock = l.Clock
			}
		}
		sum, err := Run(ctx, cfg, c.Sink, progress)
		if stop != nil {
			if serr := stop(); serr != nil {
				progress(Event{Label: label, Model: job.Model, TP: job.TP, Kind: "stopped", Message: "stop", Err: serr})
			}
		}
		res.Summaries = append(res.Summaries, sum)
		res.Measurements += sum.Measurements
		progress(Event{Label: label, Model: sum.Model, TP: job.TP, Kind: "summary",
			Message: fmt.Sprintf("%s (tp %d): %d measurements in %s, %d errors", orServed(sum.Model), job.TP, sum.Measurements, sum.Elapsed.Round(time.Millisecond), len(sum.Errors))})
		if err != nil {
			if ctx.Err() != nil {
				return res, fmt.Errorf("calibrate: %w", ctx.Err())
			}
			if errors.Is(err, ErrNoModel) || errors.Is(err, ErrLabelMismatch) || errors.Is(err, ErrSink) || len(c.Jobs) == 1 {
				return res, err
			}
			progress(Event{Label: label, Model: sum.Model, TP: job.TP, Kind: "failed", Message: "run", Err: err})
			res.Failed++
			continue
		}
		if len(sum.Errors) > 0 {
			res.Failed++
		}
	}
	return res, nil
}

func orServed(m string) string {
	if m == "" {
		return "served model"
	}
	return m
}

package deploy

import (
	"errors"
	"testing"
)

func TestLengthDist(t *testing.T) {
	tests := []struct {
		name      string
		mean      int
		p90       float64
		shape     string
		wantShape string
		bad       bool
	}{
		{name: "a p90 makes it log-normal whatever the shape", mean: 1024, p90: 2048, shape: ShapeFixed, wantShape: ShapeLogNormal},
		{name: "without a p90 the shape stands", mean: 1024, shape: ShapeExponential, wantShape: ShapeExponential},
		{name: "a p90 below the mean cannot be log-normal", mean: 1024, p90: 512, bad: true},
		{name: "unknown shape", mean: 1024, shape: "uniform", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := LengthDist(tc.mean, tc.p90, tc.shape)
			if tc.bad {
				if !errors.Is(err, ErrBadInput) {
					t.Fatalf("err = %v, want ErrBadInput", err)
				}
				return
			}
			if err != nil || d.Shape != tc.wantShape || d.Mean != float64(tc.mean) || d.P90 != tc.p90 {
				t.Errorf("got %+v, %v; want shape %s", d, err, tc.wantShape)
			}
		})
	}
}

func TestScaleOutLink(t *testing.T) {
	l, err := ScaleOutLink("roce", 0, 0)
	if err != nil || l != LinkRoCE {
		t.Fatalf("roce = %+v, %v; want the class as it is", l, err)
	}
	l, err = ScaleOutLink("roce", 100, 3)
	if err != nil || l.GBs != 100 || l.LatencyUs != 3 {
		t.Errorf("overridden = %+v, %v; want 100 GB/s and 3 µs", l, err)
	}
	if _, err := ScaleOutLink("carrier pigeon", 0, 0); err == nil {
		t.Error("unknown link class accepted")
	}
}

func TestQuestionValidate(t *testing.T) {
	ok := Question{Workload: Workload{Prompt: Fixed(512), Output: Fixed(256), RequestRate: 1}, Cost: DefaultCost, MaxGPUs: 8}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid question: %v", err)
	}
	for name, mutate := range map[string]func(q *Question){
		"no target load":  func(q *Question) { q.Workload.RequestRate = 0 },
		"negative SLO":    func(q *Question) { q.SLO.TPOTMs = -1 },
		"no GPUs allowed": func(q *Question) { q.MaxGPUs = 0 },
		"PP beyond 64":    func(q *Question) { q.PP = 65 },
		"bad cost":        func(q *Question) { q.Cost.PUE = 0.5 },
	} {
		t.Run(name, func(t *testing.T) {
			q := ok
			mutate(&q)
			if err := q.Validate(); err == nil {
				t.Error("accepted")
			}
		})
	}
}

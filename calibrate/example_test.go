package calibrate_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/vllm-wizard/vllm-wizard/calibrate"
)

func ExampleWriter() {
	w, _ := calibrate.NewWriter(os.Stdout, calibrate.CSV, true)
	w.Write(calibrate.Measurement{GPU: "L4", Model: "Qwen/Qwen2.5-0.5B", Concurrency: 1, DecodeTokS: calibrate.Some(181.5)})
	// Output:
	// gpu,gpu_count,tp,interconnect,model,params_b,quantization,kv_cache_dtype,prompt_tokens,output_tokens,concurrency,decode_tok_s,tpot_ms,itl_ms,ttft_ms,prefill_tok_s,output_tok_s,request_tok_s,vllm_version,source,measured_at,request_rate,spec_decode,launch_command
	// L4,,,,Qwen/Qwen2.5-0.5B,,,,,,1,181.5,,,,,,,,,,,,
}

func ExampleReadMeasurements() {
	in := `{"gpu":"H100 SXM","model":"m","concurrency":4,"decode_tok_s":95.2,"tpot_ms":null}`
	ms, err := calibrate.ReadMeasurements(strings.NewReader(in), calibrate.JSONL)
	if err != nil {
		panic(err)
	}
	v, ok := ms[0].TPOTms.Get()
	fmt.Println(ms[0].GPU, ms[0].DecodeTokS, v, ok)
	// Output: H100 SXM 95.2 0 false
}

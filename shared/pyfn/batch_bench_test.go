package pyfn

import (
	"context"
	"fmt"
	"testing"

	"github.com/tributary-etl/tributary/shared/worker"
)

// BenchmarkProcessBatch is the Python path alone, without a broker: one
// ProcessBatch of 500 trivial messages through the pipe and back.
//
//	go test -run '^$' -bench ProcessBatch ./shared/pyfn
func BenchmarkProcessBatch(b *testing.B) {
	r, _ := newRunner(b, "trivial.py", Options{})
	f := r.Function()
	ins := make([]worker.Input, 500)
	for i := range ins {
		ins[i] = worker.Input{Value: fmt.Appendf(nil, `{"id":"m%d","content":{"text":"a short document of a few words"}}`, i),
			Key: fmt.Appendf(nil, "m%d", i), Topics: []string{"in"}, JoinID: fmt.Sprintf("m%d", i)}
	}
	b.ResetTimer()
	for range b.N {
		for _, res := range f.ProcessBatch(context.Background(), ins) {
			if res.Err != nil || len(res.Records) != 1 {
				b.Fatalf("result %+v", res)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(ins))/b.Elapsed().Seconds(), "msg/s")
}

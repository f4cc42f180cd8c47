package emailflow_test

import (
	"fmt"
	"testing"

	"github.com/emailflow/emailflow/store/memory"
	"github.com/emailflow/emailflow/store/storetest"
)

// BenchmarkTickDeadlines: a Tick with 100 breaches due among 1,000 to
// 100,000 open interactions (memory store): the cost per Tick and per due
// interaction stays the same however many are open. -short keeps the
// smallest scene.
func BenchmarkTickDeadlines(b *testing.B) {
	for _, open := range []int{1_000, 10_000, 100_000} {
		if testing.Short() && open > 1_000 {
			break
		}
		b.Run(fmt.Sprintf("open=%d/due=100", open), func(b *testing.B) {
			storetest.BenchmarkTick(b, memory.New(nil), open, 100)
		})
	}
}

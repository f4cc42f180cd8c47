package memory

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/emailflow/emailflow"
)

func seqs(es []emailflow.Event) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func span(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// The ring keeps the newest max events across its block boundaries, and a
// pop takes back only the newest, wrapped or not.
func TestRing(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		pushes int64
		pops   int
		want   []int64
	}{
		{"empty", 10, 0, 0, nil},
		{"under one block", 10, 7, 0, span(1, 7)},
		{"wrapped in one block", 10, 25, 0, span(16, 25)},
		{"popped before wrap", 10, 7, 2, span(1, 5)},
		{"popped after wrap", 10, 25, 3, span(16, 22)},
		{"several blocks, not full", 3*ringChunk + 5, 2*ringChunk + 3, 0, span(1, 2*ringChunk+3)},
		{"several blocks, wrapped", 2*ringChunk + 5, 5*ringChunk + 1, 0, span(3*ringChunk-3, 5*ringChunk+1)},
		{"several blocks, wrapped and popped", 2*ringChunk + 5, 5*ringChunk + 1, 2, span(3*ringChunk-3, 5*ringChunk-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ring{max: tt.max}
			for s := int64(1); s <= tt.pushes; s++ {
				r.push(emailflow.Event{Seq: s})
			}
			for range tt.pops {
				r.pop()
			}
			got := seqs(r.after(0, 0))
			if tt.want == nil {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tt.want, got)
			}
			assert.LessOrEqual(t, r.size, tt.max, "never more slots than max")
			if n := len(tt.want); n > 2 {
				assert.Equal(t, tt.want[n-2:], seqs(r.after(tt.want[n-3], 0)), "after a sequence number")
				assert.Equal(t, tt.want[1:2], seqs(r.after(tt.want[0], 1)), "with a limit")
			}
		})
	}
}

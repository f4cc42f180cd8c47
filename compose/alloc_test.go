package compose

import (
	"mime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Results of the measured calls go here, so the calls are not dropped.
var (
	sinkS  string
	sinkOK bool
)

// TestFastPathAllocations: the header fast paths for the common forms
// allocate nothing, or only what they return.
func TestFastPathAllocations(t *testing.T) {
	for _, tt := range []struct {
		name string
		fn   func()
		want float64
	}{
		{"simple media type", func() { sinkS, sinkOK = simpleMediaType("text/plain") }, 0},
		{"bare address", func() { sinkS, sinkOK = simpleAddr("helene.dupre@exemple.fr") }, 0},
		{"date", func() { _, _ = parseDate("Tue, 3 Mar 2026 10:04:05 +0100") }, 0},
		{"common header key", func() { sinkS = canonicalKey("content-type") }, 0},
		{"address list: the list only", func() { _, sinkOK = quickAddrList("Hélène Dupré <helene.dupre@exemple.fr>, bob@x.example") }, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, testing.AllocsPerRun(100, tt.fn))
		})
	}
	const ct = `text/plain; charset="utf-8"; format=flowed`
	quick := testing.AllocsPerRun(100, func() { quickMediaType(ct) })
	std := testing.AllocsPerRun(100, func() { _, _, _ = mime.ParseMediaType(ct) })
	assert.Less(t, quick, std, "the quick media type reader allocates less than mime.ParseMediaType")
}

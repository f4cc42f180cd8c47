package memory

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

func seqs(es []port.Event) []int64 {
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

// The ring keeps the newest max events, across blocks, and a pop takes
// back only the newest, wrapped or not.
func TestRing(t *testing.T) {
	small := ""
	big := strings.Repeat("détail ", ringBlock/7/3) // three events fill a block
	tests := []struct {
		name   string
		max    int
		detail string
		pushes int64
		pops   int
		want   []int64
	}{
		{"empty", 10, small, 0, 0, nil},
		{"not full", 10, small, 7, 0, span(1, 7)},
		{"wrapped", 10, small, 25, 0, span(16, 25)},
		{"popped before wrap", 10, small, 7, 2, span(1, 5)},
		{"popped after wrap", 10, small, 25, 3, span(16, 22)},
		{"several blocks, not full", 20, big, 11, 0, span(1, 11)},
		{"several blocks, wrapped", 7, big, 40, 0, span(34, 40)},
		{"several blocks, wrapped and popped", 7, big, 40, 2, span(34, 38)},
		{"an event larger than a block", 3, strings.Repeat("x", 2*ringBlock), 5, 0, span(3, 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ring{max: tt.max}
			for s := int64(1); s <= tt.pushes; s++ {
				r.push(port.Event{Seq: s, Detail: tt.detail})
			}
			for range tt.pops {
				r.pop()
			}
			got := r.after(0, 0)
			if tt.want == nil {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.want, seqs(got))
			for _, e := range got {
				require.Equal(t, tt.detail, e.Detail, "event %d", e.Seq)
			}
			if n := len(tt.want); n > 2 {
				assert.Equal(t, tt.want[n-2:], seqs(r.after(tt.want[n-3], 0)), "after a sequence number")
				assert.Equal(t, tt.want[1:2], seqs(r.after(tt.want[0], 1)), "with a limit")
			}
			// Blocks whose events were all overwritten are let go.
			var bytes int
			for _, b := range r.blocks {
				bytes += cap(b)
			}
			assert.LessOrEqual(t, bytes, (tt.max+2)*max(ringBlock, len(tt.detail)+64), "blocks kept")
		})
	}
}

// Block numbers wrap at 2³² without losing the way to the events.
func TestRingBlockNumbersWrap(t *testing.T) {
	big := strings.Repeat("x", ringBlock/2) // two events fill a block
	r := ring{max: 3, base: 1<<32 - 2}
	for s := int64(1); s <= 12; s++ {
		r.push(port.Event{Seq: s, Detail: big})
	}
	assert.Equal(t, []int64{10, 11, 12}, seqs(r.after(0, 0)))
	r.pop()
	assert.Equal(t, []int64{10, 11}, seqs(r.after(0, 0)))
	assert.LessOrEqual(t, len(r.blocks), 3, "overwritten blocks are let go")
}

// An event reads back as it was pushed, every field and the time's zone
// included, and a push after a pop reuses the space.
func TestRingRoundTrip(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	events := []port.Event{
		{Seq: 1, Type: port.EventOffered, InteractionID: "it-1", Agent: "bob", Actor: "system", State: interaction.StateOffered, At: time.Date(2026, 11, 26, 9, 30, 0, 123456789, time.UTC), Detail: "to bob"},
		{Seq: 2, Type: port.EventUpdated, InteractionID: "it-1", Actor: "ana", State: interaction.StateHandling, At: time.Date(2026, 11, 26, 10, 0, 0, 0, paris), Detail: "Référence=FR-2291 ✓"},
		{Seq: 3}, // zero values, zero time
	}
	r := ring{max: 10}
	r.push(port.Event{Seq: 99, Detail: "rolled back"})
	r.pop()
	require.Len(t, r.blocks, 1)
	assert.Empty(t, r.blocks[0], "a pop gives back the newest event's bytes")
	for _, e := range events {
		r.push(e)
	}
	got := r.after(0, 0)
	require.Len(t, got, len(events))
	for i, e := range events {
		assert.True(t, e.At.Equal(got[i].At), "event %d: at %v, want %v", e.Seq, got[i].At, e.At)
		_, wantOff := e.At.Zone()
		_, gotOff := got[i].At.Zone()
		assert.Equal(t, wantOff, gotOff, "event %d: zone offset", e.Seq)
		got[i].At, e.At = time.Time{}, time.Time{}
		assert.Equal(t, e, got[i])
	}
}

// FuzzRingRoundTrip: any event reads back from the log as it was pushed,
// among others and across block boundaries.
func FuzzRingRoundTrip(f *testing.F) {
	f.Add("offered", "it-1", "bob", "system", "offered", "to bob", int64(1764147600), int64(0), 3600)
	f.Add("", "", "", "", "", strings.Repeat("é", 300), int64(0), int64(999999999), 0)
	f.Add("x", strings.Repeat("i", ringBlock), "a", "b", "c", "", int64(-62135596800), int64(0), -18000)
	f.Fuzz(func(t *testing.T, typ, id, agent, actor, state, detail string, sec, nsec int64, offset int) {
		at := time.Unix(sec, nsec%1e9).In(time.FixedZone("", (offset%86400)/60*60))
		e := port.Event{Type: port.EventType(typ), InteractionID: id, Agent: agent, Actor: actor, State: interaction.State(state), At: at, Detail: detail}
		r := ring{max: 3}
		for i := range int64(5) {
			e.Seq = i + 1
			r.push(e)
		}
		got := r.after(3, 0)
		require.Len(t, got, 2)
		for i, g := range got {
			want := e
			want.Seq = int64(4 + i)
			assert.True(t, want.At.Equal(g.At), "at %v, want %v", g.At, want.At)
			if _, err := want.At.MarshalBinary(); err == nil { // else kept in UTC
				_, wantOff := want.At.Zone()
				_, gotOff := g.At.Zone()
				assert.Equal(t, wantOff, gotOff)
			}
			want.At, g.At = time.Time{}, time.Time{}
			assert.Equal(t, want, g)
		}
	})
}

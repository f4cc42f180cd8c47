package emailflow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
)

// TestDeliveryBackoffSchedule: a delivery that keeps failing is tried at
// once, then after RetryBackoff, doubling after each failure, exactly
// MaxAttempts times in all (the same bytes every time), then fails back to
// its agent and is never tried again.
func TestDeliveryBackoffSchedule(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts emailflow.Options
		want []time.Duration // offsets of the attempts from Send
	}{
		{"four attempts a minute apart, doubling", emailflow.Options{MaxAttempts: 4, RetryBackoff: time.Minute},
			[]time.Duration{0, time.Minute, 3 * time.Minute, 7 * time.Minute}},
		{"one attempt", emailflow.Options{MaxAttempts: 1, RetryBackoff: time.Minute}, []time.Duration{0}},
		{"defaults: eight attempts from 30 s", emailflow.Options{},
			[]time.Duration{0, 30 * time.Second, 90 * time.Second, 210 * time.Second, 450 * time.Second,
				930 * time.Second, 1890 * time.Second, 3810 * time.Second}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			opts := tt.opts
			f := newFixture(t, &opts)
			f.agent(t, "alice")
			id := f.handled(t, "alice")
			r, err := f.ws.As("alice").Reply(ctx, id)
			require.NoError(t, err)
			f.sender.Fail(errors.New("421 try again later"))
			start := f.clock.Now()
			_, err = f.ws.As("alice").Send(ctx, r.ID, nil)
			require.NoError(t, err)

			// Step the clock in quarters of the first backoff, well past the
			// last attempt, dispatching at every step.
			step := 30 * time.Second / 4
			if opts.RetryBackoff > 0 {
				step = opts.RetryBackoff / 4
			}
			last := tt.want[len(tt.want)-1]
			got := []time.Duration{0}
			require.Equal(t, 1, len(f.sender.Attempts()), "tried once at Send")
			for f.clock.Now().Sub(start) < 2*last+8*step {
				f.clock.Advance(step)
				n, err := f.ws.Runner(nil).Dispatch(ctx)
				require.NoError(t, err)
				assert.Zero(t, n, "nothing was delivered")
				for len(got) < len(f.sender.Attempts()) {
					got = append(got, f.clock.Now().Sub(start))
				}
			}
			assert.Equal(t, tt.want, got, "attempts at these offsets from Send")

			attempts := f.sender.Attempts()
			require.Equal(t, len(tt.want), len(attempts), "exactly MaxAttempts")
			for _, a := range attempts {
				assert.Equal(t, attempts[0].Raw, a.Raw, "the same bytes, so the same Message-ID, on every attempt")
				assert.EqualError(t, a.Err, "421 try again later")
			}
			assert.Empty(t, f.sender.Sent())
			o, err := f.ws.As(admin).Interaction(ctx, r.ID)
			require.NoError(t, err)
			assert.Equal(t, interaction.StateFailed, o.State, "back to its agent")
			assert.Equal(t, "alice", o.Owner)
			assert.Equal(t, "421 try again later", o.History[len(o.History)-1].Detail)
		})
	}
}

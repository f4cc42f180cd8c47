package emailflow

import (
	"context"
	"time"
)

// RunnerOptions configure a Runner. The zero value (or nil) is usable.
type RunnerOptions struct {
	// Interval is how long Run waits, on the Workspace's Clock, between
	// two rounds. Default one second.
	Interval time.Duration
}

// Runner drives what happens without an agent acting: accept timeouts,
// sticky-routing expiry, routing again of declined mail, outbox
// deliveries and retries. It follows the Workspace's Clock, so a fake
// clock's advance wakes Run (no interval to shrink in tests). Run one per
// process; several processes sharing a Store may each run one.
type Runner struct {
	w        *Workspace
	interval time.Duration
}

// Runner returns a Runner of w's timers and outbox; opts may be nil.
func (w *Workspace) Runner(opts *RunnerOptions) *Runner {
	r := &Runner{w: w, interval: time.Second}
	if opts != nil && opts.Interval > 0 {
		r.interval = opts.Interval
	}
	return r
}

// Tick runs the timers due at the clock's now: offers and transfers whose
// accept timeout ran out go back (to the queue, or to the transferring
// agent), and an agent who let an offer time out is set to not responding;
// queued interactions whose sticky preference ran out, or that agents
// declined, are routed again (the agents who could take them may have
// changed: see Actor.Decline). Service levels fire
// (Options.ServiceLevels): each deadline's warning and breach once, as
// events, with the escalations of its policy; pending interactions whose
// time came wake (Actor.SetPending). Those are read from the Store's
// deadline index (ServiceLevelTx), so their cost follows how many are due,
// not how many are open. Once a minute it also deletes the rate counters
// no limit needs any more (RateLimit). It returns how many offers timed
// out.
func (r *Runner) Tick(ctx context.Context) (int, error) { return r.w.tick(ctx) }

// Dispatch delivers the outbox items that are due at the clock's now and
// returns how many were delivered.
func (r *Runner) Dispatch(ctx context.Context) (int, error) { return r.w.dispatch(ctx) }

// Run calls Tick and Dispatch, then waits Interval on the Workspace's
// Clock, until ctx is done, and returns ctx's error. Errors of a round are
// logged and the next round tries again.
func (r *Runner) Run(ctx context.Context) error {
	w := r.w
	for {
		if _, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("emailflow: timers", "err", err)
		}
		if _, err := r.Dispatch(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("emailflow: outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.clock.After(r.interval):
		}
	}
}

package emailflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emailflow/emailflow/businesstime"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
	"github.com/emailflow/emailflow/sla"
)

// ServiceLevelTx is port.ServiceLevelTx: a Tx that indexes interactions
// by their service levels.
type ServiceLevelTx = port.ServiceLevelTx

// DeadlineClaimTx is port.DeadlineClaimTx: a Tx that claims the due
// deadlines one at a time.
type DeadlineClaimTx = port.DeadlineClaimTx

// WorkbinPending is the personal workbin pending inbound interactions
// wait in (see SetPending).
const WorkbinPending = "pending"

// WakeTo says where a pending interaction goes when its period ends.
type WakeTo string

// Where pending interactions wake.
const (
	WakeDefault WakeTo = ""      // as Options.WakeToQueue says
	WakeToOwner WakeTo = "owner" // back to its owner, handling it
	WakeToQueue WakeTo = "queue" // back to its queue, routed as new
)

// String returns the choice's name.
func (w WakeTo) String() string { return string(w) }

// Pending says what an inbound waits on and until when (see SetPending).
type Pending struct {
	// Reason is sla.WaitingOnCustomer (the default) or
	// sla.WaitingOnThirdParty; policies pause their clocks by it.
	Reason sla.Pause
	// Until is when it wakes; zero: when the customer writes or the
	// agent takes it from the workbin.
	Until time.Time
	// Wake says where it goes then.
	Wake WakeTo
}

// serviceLevels holds the validated service-level options.
type serviceLevels struct {
	set *sla.Set // nil: no policies
}

// newServiceLevels validates Options.Calendars and Options.ServiceLevels.
func newServiceLevels(o *Options) (serviceLevels, error) {
	cals := sla.Calendars{}
	for i, c := range o.Calendars {
		cal, err := businesstime.New(c)
		if err != nil {
			return serviceLevels{}, fmt.Errorf("%w: Options.Calendars[%d]: %w", ErrInvalidInput, i, err)
		}
		if _, dup := cals[c.Name]; dup || c.Name == "" {
			return serviceLevels{}, fmt.Errorf("%w: Options.Calendars[%d]: a calendar needs a name of its own, %q is not", ErrInvalidInput, i, c.Name)
		}
		cals[c.Name] = cal
	}
	cfg := o.ServiceLevels
	if len(cfg.Policies) == 0 && len(cfg.Rules) == 0 && cfg.Default == "" {
		return serviceLevels{}, nil
	}
	set, err := sla.NewSet(cfg, cals)
	if err != nil {
		return serviceLevels{}, fmt.Errorf("%w: Options.ServiceLevels: %w", ErrInvalidInput, err)
	}
	for _, n := range set.Names() {
		m, _ := set.Machine(n)
		for _, k := range []sla.Kind{sla.FirstResponse, sla.NextResponse, sla.Resolution} {
			for _, e := range m.Policy().Target(k).Escalations {
				if e.Action == sla.MoveToQueue && e.Queue == o.ReviewQueue && e.Queue != "" {
					return serviceLevels{}, fmt.Errorf("%w: policy %q moves mail to the review queue", ErrInvalidInput, n)
				}
			}
		}
	}
	return serviceLevels{set: set}, nil
}

// machine returns the policy that applies to it now, and its name ("" and
// the zero Machine, which keeps the clocks and the pending periods but
// sets no deadline, when none does).
func (w *Workspace) machine(it *interaction.Interaction) (sla.Machine, string) {
	if w.sl.set == nil {
		return sla.Machine{}, ""
	}
	m, ok := w.sl.set.Select(it.Queue, it.SLA.Route, it.Priority)
	if !ok {
		return sla.Machine{}, ""
	}
	return m, m.Policy().Name
}

// tracked reports whether it is an inbound whose deadlines run: one that
// reached an agent's queue (not new, quarantined, deleted before).
func tracked(it *interaction.Interaction) bool {
	if it.Kind != interaction.KindInbound {
		return false
	}
	if !it.SLA.State.Arrived.IsZero() {
		return true
	}
	switch it.State {
	case interaction.StateNew, interaction.StateQuarantined, interaction.StateDeleted:
		return false
	}
	return true
}

// slaApply feeds ev to its deadlines and handles what fires, in t, before
// it is written. It returns whether an escalation moved it to another
// queue while queued: the caller routes it once written.
func (w *Workspace) slaApply(t *tx, it *interaction.Interaction, ev sla.Event) (bool, error) {
	if !tracked(it) {
		return false, nil
	}
	m, _ := w.machine(it)
	w.slaArrive(it, m, t.now)
	st, fired, err := m.Apply(it.SLA.State, ev)
	if err != nil {
		return false, fmt.Errorf("%w: %s: %w", ErrInvalidTransition, it.ID, err)
	}
	it.SLA.State = st
	return w.slaFired(t, it, fired)
}

// slaArrive starts its deadlines when its first message came in, which is
// before it reaches a queue for quarantined mail released later, or for
// mail stored before service levels were configured: the customer has
// been waiting all along.
func (w *Workspace) slaArrive(it *interaction.Interaction, m sla.Machine, now time.Time) {
	if !it.SLA.State.Arrived.IsZero() {
		return
	}
	at := it.CreatedAt
	if at.IsZero() {
		at = now
	}
	st, _, _ := m.Apply(sla.State{}, sla.Event{Kind: sla.Arrived, At: at})
	it.SLA.State = st
}

// slaSync brings its service levels in line with what happened to it in
// this action, just before it is written: deadlines stop when it is done
// or deleted and run on when it reopens, its pending period ends when it
// leaves the pending workbin, the policy is selected again from its
// queue and priority, and the derived values the stores index are
// computed. Every write of an interaction goes through it (see tx), so
// no action can leave them stale.
func (w *Workspace) slaSync(t *tx, it *interaction.Interaction) error {
	if !tracked(it) {
		return nil
	}
	if sl := &it.SLA; w.sl.set == nil && !sl.State.Pending.Active() && sl.Next.IsZero() && sl.Due.IsZero() && sl.Risk == interaction.RiskNone && sl.Policy == "" {
		// No policy: no deadline to run, nothing to fire and nothing
		// derived to index, but for a pending period's wake-up, which
		// takes the way below (as do one ending and values a policy
		// derived before the policies were removed, cleared there).
		return nil
	}
	m, name := w.machine(it)
	w.slaArrive(it, m, t.now)
	st := it.SLA.State
	var ev sla.Event
	switch {
	case !it.State.Open() && !st.Done:
		ev = sla.Event{Kind: sla.Done, At: t.now}
	case it.State.Open() && st.Done:
		ev = sla.Event{Kind: sla.Reopened, At: t.now}
	case st.Pending.Active() && (it.State != interaction.StateParked || it.Workbin != WorkbinPending):
		ev = sla.Event{Kind: sla.PendingEnded, At: t.now}
	}
	if ev.Kind != "" {
		next, fired, err := m.Apply(st, ev)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidTransition, it.ID, err)
		}
		it.SLA.State = next
		// What fell due before it was closed is reported; escalations
		// no longer apply to a closed interaction.
		if _, err := w.slaReport(t, it, fired, it.State.Open()); err != nil {
			return err
		}
	}
	st = it.SLA.State
	it.SLA.Policy = name
	it.SLA.Next, it.SLA.Due, it.SLA.Risk = time.Time{}, time.Time{}, interaction.RiskNone
	if st.Done {
		return nil
	}
	if next := m.Next(st); !next.IsZero() {
		it.SLA.Next = ceilMicro(next)
	}
	it.SLA.Due = m.Due(st)
	it.SLA.Risk = riskOf(m, &st)
	return nil
}

// ceilMicro rounds t up to the microsecond, the precision of SQL stores:
// an index key never comes before the instant it stands for.
func ceilMicro(t time.Time) time.Time {
	r := t.Truncate(time.Microsecond)
	if r.Before(t) {
		r = r.Add(time.Microsecond)
	}
	return r
}

// riskOf says whether an open deadline of st breached or warned.
func riskOf(m sla.Machine, st *sla.State) interaction.Risk {
	risk := interaction.RiskNone
	timers := [...]struct {
		k sla.Kind
		t *sla.Timer
	}{{sla.FirstResponse, &st.FirstResponse}, {sla.NextResponse, &st.NextResponse}, {sla.Resolution, &st.Resolution}}
	p := m.Policy()
	for _, x := range timers {
		tm := x.t
		if tm.Seq == 0 || !tm.Met.IsZero() || !p.Target(x.k).Enabled() {
			continue
		}
		switch {
		case tm.Breached:
			return interaction.RiskBreached
		case tm.Warned:
			risk = interaction.RiskAtRisk
		}
	}
	return risk
}

// slaFired handles firings of an open interaction: events and
// escalations. Wake-ups are left to the caller (see wake).
func (w *Workspace) slaFired(t *tx, it *interaction.Interaction, fired []sla.Firing) (bool, error) {
	return w.slaReport(t, it, fired, true)
}

// slaReport emits the events of fired and, with escalate, carries out
// their escalations on it (not yet written). It reports whether it moved
// to another queue while queued.
func (w *Workspace) slaReport(t *tx, it *interaction.Interaction, fired []sla.Firing, escalate bool) (bool, error) {
	moved := false
	_, policy := w.machine(it)
	for _, f := range fired {
		if f.Trigger == sla.Wake {
			continue
		}
		typ := EventSLAWarning
		if f.Trigger == sla.Breach {
			typ = EventSLABreached
		}
		fi := interaction.Firing{Deadline: f.Deadline, Seq: f.Seq, Trigger: f.Trigger, At: f.At, Policy: policy}
		detail := fi.String()
		it.Record("system", string(typ), t.now, detail)
		if err := t.appendEvent(Event{Type: typ, InteractionID: it.ID, Agent: it.Owner, Actor: "system",
			State: it.State, At: t.now, Detail: detail, Deadline: &fi}); err != nil {
			return false, err
		}
		if !escalate {
			continue
		}
		for _, e := range f.Escalations {
			m, err := w.escalate(t, it, e, &fi)
			if err != nil {
				return false, err
			}
			moved = moved || m
		}
	}
	return moved, nil
}

// escalate carries out one escalation on it (not yet written).
func (w *Workspace) escalate(t *tx, it *interaction.Interaction, e sla.Escalation, fi *interaction.Firing) (bool, error) {
	switch e.Action {
	case sla.RaisePriority:
		if it.Priority >= e.Priority {
			return false, nil
		}
		it.Priority = e.Priority
		what := fmt.Sprintf("%s %d", e.Action, e.Priority)
		it.Record("system", string(EventSLAEscalated), t.now, what)
		return false, t.emit(EventSLAEscalated, it, it.Owner, "system", what)
	case sla.MoveToQueue:
		if it.Queue == e.Queue {
			return false, nil
		}
		what := fmt.Sprintf("%s %s", e.Action, e.Queue)
		it.Record("system", string(EventSLAEscalated), t.now, what)
		queued := it.State == interaction.StateQueued
		if queued {
			toQueue(it, e.Queue, t.now)
		} else {
			// Whoever holds it keeps it; it belongs to the new queue from
			// now on (its supervisors see it, a requeue goes there).
			it.Queue = e.Queue
		}
		return queued, t.emit(EventSLAEscalated, it, it.Owner, "system", what)
	case sla.NotifySupervisor:
		to := []string{e.Supervisor}
		if e.Supervisor == "" {
			var err error
			if to, err = w.supervisors(t, it.Queue, PrivilegeSupervise); err != nil {
				return false, err
			}
		}
		for _, s := range to {
			c := *fi // each event its own
			if err := t.appendEvent(Event{Type: EventSLANotify, InteractionID: it.ID, Agent: s, Actor: "system",
				State: it.State, At: t.now, Detail: c.String(), Deadline: &c}); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// tickDeadlines fires what fell due up to now: the warnings, breaches and
// escalations of deadlines and the wake-ups of pending interactions, each
// interaction in a transaction of its own. It reads the interactions due
// from the Store's index (ServiceLevelTx), so its cost follows the number
// due, not the number open. It returns how many interactions it changed.
func (w *Workspace) tickDeadlines(ctx context.Context, now time.Time) (int, error) {
	claims := false
	if err := w.view(ctx, func(t *tx) error {
		_, claims = t.Tx.(DeadlineClaimTx)
		return nil
	}); err != nil {
		return 0, err
	}
	if claims {
		return w.claimEach(ctx, func(t *tx, skip []string) (*interaction.Interaction, error) {
			return t.Tx.(DeadlineClaimTx).ClaimDueSLA(ctx, now, skip)
		}, w.fireDue)
	}
	const page = 256
	n := 0
	seen := map[string]bool{}
	for {
		var ids []string
		err := w.view(ctx, func(t *tx) error {
			var err error
			ids, err = dueDeadlines(t, now, page)
			return err
		})
		if err != nil {
			return n, err
		}
		fresh := 0
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			fresh++
			err := w.update(ctx, func(t *tx) error {
				it, err := t.Interaction(t.ctx, id)
				if errors.Is(err, ErrNotFound) {
					return errSkip
				}
				if err != nil {
					return err
				}
				return w.fireDue(t, it)
			})
			if errors.Is(err, errSkip) {
				continue
			}
			if err != nil {
				return n, err
			}
			n++
		}
		if len(ids) < page || fresh == 0 {
			return n, nil
		}
	}
}

// dueDeadlines returns the interactions whose SLA.Next is due, from the
// Store's index, or else by reading the open interactions.
func dueDeadlines(t *tx, now time.Time, limit int) ([]string, error) {
	if s, ok := t.Tx.(ServiceLevelTx); ok {
		return s.DueSLA(t.ctx, now, limit)
	}
	open, err := t.FindInteractions(t.ctx, Query{Kind: interaction.KindInbound, States: []interaction.State{
		interaction.StateQueued, interaction.StateOffered, interaction.StateHandling,
		interaction.StateParked, interaction.StateTransferred}})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, it := range open {
		if n := it.SLA.Next; !n.IsZero() && !n.After(now) && (limit <= 0 || len(ids) < limit) {
			ids = append(ids, it.ID)
		}
	}
	return ids, nil
}

// fireDue fires what fell due on it, read in t. Another Tick (in this
// process or another) that got there first left nothing due: it skips,
// and the version check makes sure two cannot both write.
func (w *Workspace) fireDue(t *tx, it *interaction.Interaction) error {
	if it.SLA.Next.IsZero() || it.SLA.Next.After(t.now) || !tracked(it) {
		return errSkip
	}
	m, _ := w.machine(it)
	st, fired := m.Fire(it.SLA.State, t.now)
	it.SLA.State = st
	moved, err := w.slaFired(t, it, fired)
	if err != nil {
		return err
	}
	woke := false
	for _, f := range fired {
		woke = woke || f.Trigger == sla.Wake
	}
	if woke {
		return w.wake(t, it, "time")
	}
	if err := t.UpdateInteraction(t.ctx, it); err != nil {
		return err
	}
	if moved {
		return w.route(t, it)
	}
	return nil
}

// wake sends a pending inbound (not yet written) back to work: to its
// owner, handling it, or to its queue, routed as new mail; why is "time"
// or "customer". An interaction no longer in the pending workbin is only
// written.
func (w *Workspace) wake(t *tx, it *interaction.Interaction, why string) error {
	if it.State != interaction.StateParked || it.Workbin != WorkbinPending {
		return t.UpdateInteraction(t.ctx, it)
	}
	owner := it.Owner
	back := it.SLA.WakeToQueue || owner == ""
	if !back {
		switch a, err := t.Agent(t.ctx, owner); {
		case errors.Is(err, ErrNotFound):
			back = true
		case err != nil:
			return err
		default:
			back = a.Status == StatusLoggedOut
		}
	}
	it.SLA.WakeToQueue = false
	if back {
		if err := it.Fire(t.ctx, interaction.EventRequeue, "system", t.now, "woken: "+why); err != nil {
			return err
		}
		toQueue(it, it.Queue, t.now)
		if err := t.UpdateInteraction(t.ctx, it); err != nil {
			return err
		}
		if err := t.emit(EventWoken, it, "", "system", why); err != nil {
			return err
		}
		if err := t.emit(EventQueued, it, "", "system", it.Queue); err != nil {
			return err
		}
		return w.route(t, it)
	}
	if err := it.Fire(t.ctx, interaction.EventResume, "system", t.now, "woken: "+why); err != nil {
		return err
	}
	it.Workbin, it.LastAgent = "", owner
	if err := t.UpdateInteraction(t.ctx, it); err != nil {
		return err
	}
	return t.emit(EventWoken, it, owner, "system", why)
}

// SetPending puts inbound interaction id, handled by the actor, in their
// pending workbin (WorkbinPending) until p.Until: it no longer counts
// against their capacity, and the clocks of the deadlines whose policy
// pauses on p.Reason stop. It wakes at p.Until (at the first Tick from
// then) or as soon as the customer writes, back to its owner or to its
// queue as p.Wake says; the owner ends it sooner by taking it from the
// workbin (Actor.TakeFromWorkbin). Setting an interaction already pending
// replaces its period. It returns the interaction as written.
//
// Errors: ErrNotFound; ErrForbidden (not the owner, or no handle
// privilege); ErrInvalidTransition (not handling nor pending);
// ErrInvalidInput (another reason, an Until not in the future, an
// unknown wake choice, not an inbound).
func (ac *Actor) SetPending(ctx context.Context, id string, p Pending) (*interaction.Interaction, error) {
	w, agentID := ac.w, ac.id
	if p.Reason == "" {
		p.Reason = sla.WaitingOnCustomer
	}
	if p.Reason != sla.WaitingOnCustomer && p.Reason != sla.WaitingOnThirdParty {
		return nil, fmt.Errorf("%w: pending on %q, neither %q nor %q", ErrInvalidInput, p.Reason, sla.WaitingOnCustomer, sla.WaitingOnThirdParty)
	}
	if p.Wake != WakeDefault && p.Wake != WakeToOwner && p.Wake != WakeToQueue {
		return nil, fmt.Errorf("%w: wake to %q, neither %q nor %q", ErrInvalidInput, p.Wake, WakeToOwner, WakeToQueue)
	}
	var out *interaction.Interaction
	err := w.update(ctx, func(t *tx) error {
		it, err := w.actingOwner(t, agentID, PrivilegeHandle, id)
		if err != nil {
			return err
		}
		if it.Kind != interaction.KindInbound {
			return fmt.Errorf("%w: %s is not an inbound email: only those wait on a customer", ErrInvalidInput, id)
		}
		if !p.Until.IsZero() && !p.Until.After(t.now) {
			return fmt.Errorf("%w: pending until %v, which is not after now (%v)", ErrInvalidInput, p.Until, t.now)
		}
		again := it.State == interaction.StateParked && it.Workbin == WorkbinPending
		if !again {
			if err := it.Fire(ctx, interaction.EventPark, agentID, t.now, WorkbinPending); err != nil {
				return err
			}
			it.Workbin = WorkbinPending
		}
		// Parked, it cannot be moved by an escalation that fires on the
		// way: it goes to its new queue when it wakes.
		if _, err := w.slaApply(t, it, sla.Event{Kind: sla.PendingStarted, At: t.now, Reason: p.Reason, Until: p.Until}); err != nil {
			return err
		}
		it.SLA.WakeToQueue = p.Wake == WakeToQueue || (p.Wake == WakeDefault && w.opts.WakeToQueue)
		detail := string(p.Reason)
		if !p.Until.IsZero() {
			detail += " until " + p.Until.UTC().Format(time.RFC3339)
		}
		it.Record(agentID, string(EventPending), t.now, detail)
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		if err := t.emit(EventPending, it, agentID, agentID, detail); err != nil {
			return err
		}
		out = it
		if again {
			return nil
		}
		return w.freed(t, agentID)
	})
	return out.Clone(), err
}

// Deadlines returns what the deadlines of interaction id show now, for
// the actor (who must be allowed to see it, as for Actor.Interaction): for each
// deadline its policy set and that started, in the order first response,
// next response, resolution, whether it runs, is paused, met or
// breached, its due time and the time left. The policy's name is the
// interaction's SLA.Policy. Errors: ErrNotFound; ErrForbidden.
func (ac *Actor) Deadlines(ctx context.Context, id string) ([]sla.Status, error) {
	w, agentID := ac.w, ac.id
	var out []sla.Status
	err := w.read(ctx, agentID, id, func(t *tx, it *interaction.Interaction) error {
		if !tracked(it) {
			return nil
		}
		m, _ := w.machine(it)
		st := it.SLA.State
		if st.Arrived.IsZero() {
			w.slaArrive(it, m, t.now)
			st = it.SLA.State
		}
		out = m.Status(st, t.now)
		return nil
	})
	return out, err
}

package interaction

import (
	"context"
	"errors"
	"fmt"

	"github.com/looplab/fsm"
)

// transition is one edge of a state machine.
type transition struct {
	event Event
	from  []State
	to    State
}

// machine is the static description of one kind's state machine. The
// looplab FSM itself is built anew for every operation (see Fire).
type machine struct {
	states map[State]bool
	events fsm.Events
	// from holds, per state, the edges leaving it. An operation fires one
	// event from one known state, so the FSM it builds needs only these:
	// the same answers as the whole machine, for a fraction of the cost of
	// building it.
	from map[State]fsm.Events
}

func newMachine(edges []transition) machine {
	m := machine{states: map[State]bool{}, from: map[State]fsm.Events{}}
	for _, e := range edges {
		src := make([]string, len(e.from))
		for i, s := range e.from {
			src[i] = string(s)
			m.states[s] = true
			m.from[s] = append(m.from[s], fsm.EventDesc{Name: string(e.event), Src: []string{string(s)}, Dst: string(e.to)})
		}
		m.states[e.to] = true
		m.events = append(m.events, fsm.EventDesc{Name: string(e.event), Src: src, Dst: string(e.to)})
	}
	return m
}

var machines = map[Kind]machine{
	KindInbound: newMachine([]transition{
		{EventQueue, []State{StateNew}, StateQueued},
		{EventOffer, []State{StateQueued}, StateOffered},
		{EventAccept, []State{StateOffered, StateTransferred}, StateHandling},
		{EventDecline, []State{StateOffered}, StateQueued},
		{EventDecline, []State{StateTransferred}, StateHandling},
		{EventTimeout, []State{StateOffered}, StateQueued},
		{EventTimeout, []State{StateTransferred}, StateHandling},
		{EventPull, []State{StateQueued}, StateHandling},
		{EventTransfer, []State{StateHandling}, StateTransferred},
		{EventTransferQueue, []State{StateHandling}, StateQueued},
		{EventPark, []State{StateHandling}, StateParked},
		{EventResume, []State{StateParked}, StateHandling},
		{EventComplete, []State{StateHandling}, StateDone},
		{EventDelete, []State{StateNew, StateQueued, StateHandling, StateParked, StateQuarantined}, StateDeleted},
		{EventAssign, []State{StateQueued, StateParked}, StateParked},
		{EventRequeue, []State{StateParked}, StateQueued},
		{EventReopen, []State{StateDone}, StateHandling},
		{EventQuarantine, []State{StateNew}, StateQuarantined},
		{EventRelease, []State{StateQuarantined}, StateQueued},
	}),
	KindOutbound: newMachine([]transition{
		{EventPark, []State{StateDraft}, StateParked},
		{EventResume, []State{StateParked}, StateDraft},
		{EventSend, []State{StateDraft}, StateOutbox},
		{EventSubmit, []State{StateDraft, StateRejected}, StateInReview},
		{EventApprove, []State{StateInReview}, StateOutbox},
		{EventReject, []State{StateInReview}, StateRejected},
		{EventWithdraw, []State{StateInReview}, StateDraft},
		{EventDeliver, []State{StateOutbox}, StateSent},
		{EventFail, []State{StateOutbox}, StateFailed},
		{EventBounce, []State{StateSent}, StateFailed},
		{EventRetry, []State{StateFailed}, StateOutbox},
		{EventEdit, []State{StateFailed, StateRejected}, StateDraft},
		{EventDelete, []State{StateDraft, StateParked, StateRejected, StateFailed}, StateDeleted},
	}),
	KindReview: newMachine([]transition{
		{EventQueue, []State{StateNew}, StateQueued},
		{EventOffer, []State{StateQueued}, StateOffered},
		{EventAccept, []State{StateOffered}, StateHandling},
		{EventDecline, []State{StateOffered}, StateQueued},
		{EventTimeout, []State{StateOffered}, StateQueued},
		{EventPull, []State{StateQueued}, StateHandling},
		{EventDecide, []State{StateHandling}, StateDone},
		{EventCancel, []State{StateQueued, StateOffered, StateHandling}, StateDone},
	}),
	KindConsult: newMachine([]transition{
		{EventAccept, []State{StateOffered}, StateHandling},
		{EventDecline, []State{StateOffered}, StateDone},
		{EventTimeout, []State{StateOffered}, StateDone},
		{EventAnswer, []State{StateHandling}, StateAnswered},
		{EventComplete, []State{StateAnswered}, StateDone},
		{EventCancel, []State{StateOffered, StateHandling}, StateDone},
	}),
}

// selfLoops are the events whose edge may lead back to the same state on
// purpose: a supervisor assigning a parked interaction moves it to another
// agent's workbin, a real change the history must show. Any other
// self-transition is refused.
var selfLoops = map[Event]bool{EventAssign: true}

// InitialState is the state a new interaction of kind k starts in.
func InitialState(k Kind) State {
	switch k {
	case KindOutbound:
		return StateDraft
	case KindConsult:
		return StateOffered
	}
	return StateNew
}

// Can reports whether an interaction of kind k in state s accepts event e.
func Can(k Kind, s State, e Event) bool {
	m, ok := machines[k]
	if !ok || !m.states[s] {
		return false
	}
	for _, d := range m.events {
		if d.Name != string(e) {
			continue
		}
		for _, src := range d.Src {
			if src == string(s) {
				return true
			}
		}
	}
	return false
}

// next fires e on a state machine built from (k, s) and returns the new state.
func next(ctx context.Context, k Kind, s State, e Event) (State, error) {
	m, ok := machines[k]
	if !ok {
		return "", fmt.Errorf("%w: unknown kind %q", ErrInvalidInput, k)
	}
	// SetState and NewFSM accept any string: validate the stored state first,
	// so a corrupt row cannot walk a machine from a state it does not have.
	if !m.states[s] {
		return "", fmt.Errorf("%w: %s interaction has unknown state %q", ErrInvalidTransition, k, s)
	}
	f := fsm.NewFSM(string(s), m.from[s], nil)
	if err := f.Event(context.WithoutCancel(ctx), string(e)); err != nil {
		var noTransition fsm.NoTransitionError
		if errors.As(err, &noTransition) {
			if selfLoops[e] {
				return s, nil
			}
			return "", fmt.Errorf("%w: %s %q in state %q changes nothing: %w", ErrInvalidTransition, k, e, s, err)
		}
		return "", fmt.Errorf("%w: %s interaction in state %q cannot %q: %w", ErrInvalidTransition, k, s, e, err)
	}
	return State(f.Current()), nil
}

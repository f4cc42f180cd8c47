package interaction

import (
	"context"
	"fmt"
	"time"
)

// Interaction is the aggregate every action works on. A zero Interaction is
// not valid: create one with New.
type Interaction struct {
	ID       string
	Kind     Kind
	Purpose  Purpose // outbound only
	State    State
	ParentID string // the interaction this one was created from (reply → inbound, consult → its subject)
	ThreadID string // shared by every interaction of one conversation

	ContactID string
	Mailbox   string // the address the email came to or is sent from
	Subject   string

	Owner     string // the agent handling it; empty when nobody does
	Queue     string // the queue it waits in or was routed through
	Workbin   string // the workbin it is parked in, when parked
	OfferedTo string // the agent it is offered or transferred to
	OfferedAt time.Time
	// TransferFrom is the agent who transferred it, while the transfer is
	// pending; a decline or timeout hands it back to them.
	TransferFrom string
	// Declined lists the agents who declined it, oldest decline first:
	// routing skips them until every agent who could take it has.
	Declined []string
	// Excluded lists agents it must never go to, offered or pulled: the
	// author of an email under review (four eyes).
	Excluded []string
	// LastAgent is the last agent who handled it, for sticky routing.
	LastAgent string
	// PreferredAgent, until PreferUntil, is the only agent it is offered
	// to: a customer's follow-up goes back to the agent who last handled
	// the thread, for a while.
	PreferredAgent string
	PreferUntil    time.Time
	Priority       int
	QueuedAt       time.Time
	// Skills are the skills (and minimum levels) an agent needs to be
	// offered it; Language, when set, a language the agent must speak.
	Skills   map[string]int
	Language string

	CaseData    CaseData
	Notes       []Note
	Disposition string
	History     []Entry
	// Rounds are the quality-review rounds of an outbound email, oldest
	// first: who reviewed, the decision, the reason and remarks of a
	// rejection (see LastReview).
	Rounds []Round
	// Answers are colleagues' answers to consultations about this
	// interaction, oldest first.
	Answers []Answer
	// SLA is an inbound interaction's service-level state (see package
	// sla), kept by the Workspace.
	SLA ServiceLevel `json:",omitzero"`

	// Version is the optimistic-concurrency version: the store refuses a
	// write whose Version is not the stored one, and increments it on
	// success.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// New returns an interaction of kind k in its initial state, with a history
// entry for its creation.
func New(id string, k Kind, actor string, at time.Time) (*Interaction, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: interaction id is empty", ErrInvalidInput)
	}
	if !k.Valid() {
		return nil, fmt.Errorf("%w: unknown kind %q", ErrInvalidInput, k)
	}
	it := &Interaction{ID: id, Kind: k, State: InitialState(k), ThreadID: id, CreatedAt: at, UpdatedAt: at}
	// Room for the entries of a typical first transaction (queue, offer).
	it.History = append(make([]Entry, 0, 4), Entry{At: at, Actor: actor, Action: "create", To: it.State})
	return it, nil
}

// Fire moves the interaction with event e, on behalf of actor, and records
// the transition in its history. On error the interaction is unchanged; the
// error wraps ErrInvalidTransition and names the state and the event.
func (it *Interaction) Fire(ctx context.Context, e Event, actor string, at time.Time, detail string) error {
	to, err := next(ctx, it.Kind, it.State, e)
	if err != nil {
		return err
	}
	it.History = append(it.History, Entry{At: at, Actor: actor, Action: string(e), From: it.State, To: to, Detail: detail})
	it.State = to
	it.UpdatedAt = at
	return nil
}

// Can reports whether the interaction accepts event e in its current state.
func (it *Interaction) Can(e Event) bool { return Can(it.Kind, it.State, e) }

// Record appends a history entry for a change that is not a transition
// (a note, a case data edit, a disposition).
func (it *Interaction) Record(actor, action string, at time.Time, detail string) {
	it.History = append(it.History, Entry{At: at, Actor: actor, Action: action, From: it.State, To: it.State, Detail: detail})
	it.UpdatedAt = at
}

// CheckOwner returns nil when agent owns the interaction, else an error
// wrapping ErrForbidden.
func (it *Interaction) CheckOwner(agent string) error {
	if agent == "" || it.Owner != agent {
		return fmt.Errorf("%w: interaction %s is owned by %q, not %q", ErrForbidden, it.ID, it.Owner, agent)
	}
	return nil
}

// CheckOffered returns nil when the interaction is offered (or transferred)
// to agent, else an error wrapping ErrForbidden.
func (it *Interaction) CheckOffered(agent string) error {
	if agent == "" || it.OfferedTo != agent {
		return fmt.Errorf("%w: interaction %s is not offered to %q", ErrForbidden, it.ID, agent)
	}
	return nil
}

// HasDeclined reports whether agent declined this interaction before.
func (it *Interaction) HasDeclined(agent string) bool {
	for _, a := range it.Declined {
		if a == agent {
			return true
		}
	}
	return false
}

// Clone returns a deep copy, so stores can hand out values callers may
// change freely.
func (it *Interaction) Clone() *Interaction {
	if it == nil {
		return nil
	}
	c := *it
	c.Declined = append([]string(nil), it.Declined...)
	c.Excluded = append([]string(nil), it.Excluded...)
	if it.Skills != nil {
		c.Skills = make(map[string]int, len(it.Skills))
		for k, v := range it.Skills {
			c.Skills[k] = v
		}
	}
	c.CaseData = append(CaseData(nil), it.CaseData...)
	c.Notes = append([]Note(nil), it.Notes...)
	// Room for the entries the next action appends, so it does not copy
	// the history once more.
	c.History = append(make([]Entry, 0, len(it.History)+2), it.History...)
	c.Rounds = cloneRounds(it.Rounds)
	c.Answers = append([]Answer(nil), it.Answers...)
	return &c
}

package port

import (
	"time"

	"github.com/emailflow/emailflow/interaction"
)

// EventType names what happened.
type EventType string

// Event types.
const (
	EventIngested    EventType = "ingested"     // a new inbound interaction was created
	EventMessage     EventType = "message"      // a customer's follow-up joined an open interaction
	EventQueued      EventType = "queued"       // waiting in a queue
	EventOffered     EventType = "offered"      // offered to Agent
	EventAccepted    EventType = "accepted"     // Agent owns it now
	EventDeclined    EventType = "declined"     // Agent declined the offer
	EventTimedOut    EventType = "timed-out"    // the offer to Agent ran out
	EventTransferred EventType = "transferred"  // transferred to Agent or a queue
	EventParked      EventType = "parked"       // saved to a workbin
	EventResumed     EventType = "resumed"      // taken back from a workbin
	EventDraft       EventType = "draft"        // an outbound draft was created or edited
	EventOutbox      EventType = "outbox"       // an outbound was rendered and queued for delivery
	EventSent        EventType = "sent"         // the Sender took the message
	EventFailed      EventType = "failed"       // delivery gave up
	EventUpdated     EventType = "updated"      // case data, note or disposition changed
	EventDone        EventType = "done"         // marked done
	EventDeleted     EventType = "deleted"      // deleted
	EventAgentStatus EventType = "agent-status" // an agent's status changed
	EventConsult     EventType = "consult"      // a consultation was started (Agent: the colleague)
	EventAnswered    EventType = "answered"     // a colleague answered a consultation (Agent: the owner)
	EventCancelled   EventType = "cancelled"    // a consultation was cancelled
	EventAssigned    EventType = "assigned"     // a supervisor moved it to an agent's workbin or a queue
	EventCall        EventType = "call"         // the agent called the contact (Detail: the call id)
	// EventResourceAnswer: an external resource answered one of our
	// forwards; the answer is on the inbound (Agent: its owner, Detail:
	// the email's id).
	EventResourceAnswer EventType = "resource-answer"
)

// Event types of the intake's classification (see Ingest).
const (
	// EventBounced: a delivery report says one of our emails did not
	// reach a recipient; the outbound failed back to its agent
	// (InteractionID: the outbound; Agent: its owner, or a supervisor of
	// its queue when the conversation is done; Detail: per recipient,
	// the status and the server's answer).
	EventBounced EventType = "bounced"
	// EventDelayed: a delivery report says one of our emails is late and
	// still being tried (as for EventBounced; the email stays sent).
	EventDelayed EventType = "delayed"
	// EventAutoReply: automated mail (an out-of-office answer) joined a
	// conversation, stored on it as automatic (Agent: its owner; Detail:
	// the email's id).
	EventAutoReply EventType = "auto-reply"
	// EventQuarantined: mail was set aside for a supervisor (Agent: each
	// supervisor of its queue holding PrivilegeFilter; Detail: why).
	EventQuarantined EventType = "quarantined"
	// EventReleased: a supervisor let quarantined mail through; it is
	// queued (Actor: the supervisor).
	EventReleased EventType = "released"
)

// Event types of the QA review cycle (see Approve, Reject, ReviewEdit,
// Withdraw). The review interaction itself is queued, offered, accepted
// and done with the events above.
const (
	EventSubmitted    EventType = "submitted"     // an outbound went to review instead of the outbox (Agent: its author)
	EventApproved     EventType = "approved"      // a reviewer approved an outbound; it is in the outbox (Agent: its author)
	EventRejected     EventType = "rejected"      // a reviewer sent an outbound back to its author (Agent: the author)
	EventReviewEdited EventType = "review-edited" // a reviewer changed an outbound in review (Agent: its author)
	EventWithdrawn    EventType = "withdrawn"     // the author took an outbound back from review
)

// Event types of service levels (see the Workspace's Options.ServiceLevels).
const (
	// EventSLAWarning: a deadline is at risk: its warning share of time
	// is used (Agent: the owner; Deadline: which; Detail: the same as
	// text).
	EventSLAWarning EventType = "sla-warning"
	// EventSLABreached: a deadline's time is used up before it was met
	// (Agent: the owner; Deadline: which; Detail: the same as text).
	EventSLABreached EventType = "sla-breached"
	// EventSLAEscalated: a policy's escalation was carried out: its
	// priority raised or its queue changed (Detail: the action and its
	// value, "raise-priority 9", "move-to-queue escalated").
	EventSLAEscalated EventType = "sla-escalated"
	// EventSLANotify: a policy's escalation asks to tell a supervisor
	// (Agent: the supervisor, one event each; Deadline and Detail: as for
	// the warning or breach that asks it). The host turns it into a
	// notification.
	EventSLANotify EventType = "sla-notify"
	// EventPending: an agent set an inbound pending (Agent: its owner;
	// Detail: what it waits on, and until when).
	EventPending EventType = "pending"
	// EventWoken: a pending inbound went back to work (Agent: its owner
	// when it went back to them; Detail: "time", "customer").
	EventWoken EventType = "woken"
)

// String returns the event type's name.
func (t EventType) String() string { return string(t) }

// Event tells user interfaces what happened. Events are written to the
// store in the action's transaction and published after its commit.
type Event struct {
	Seq int64
	// Cursor is the event's place in the feed of a Store that has one
	// (EventFeed): increasing in the order events were committed, across
	// every process sharing the store. A subscriber that keeps the last
	// one it got resumes after it (SubscribeOptions.After) without a gap.
	// 0 without a feed.
	Cursor        int64
	Type          EventType
	InteractionID string
	Agent         string // the agent concerned: the one offered to, accepting, transferred to...
	Actor         string // who did it ("system" for the Workspace itself)
	State         interaction.State
	At            time.Time
	Detail        string
	// Answer is the colleague's answer of an EventAnswered; nil otherwise.
	Answer *interaction.Answer
	// Review is the decided round of an EventApproved or EventRejected
	// (reviewer, decision, reason, remarks); nil otherwise.
	Review *interaction.Round
	// Deadline is the deadline of an EventSLAWarning, EventSLABreached
	// or EventSLANotify (which, when it fell due, under which policy);
	// nil otherwise.
	Deadline *interaction.Firing
}

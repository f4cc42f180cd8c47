package interaction

// State is where an interaction stands in its life cycle. Each kind uses its
// own subset; see the machines in machine.go.
type State string

// Inbound states.
const (
	StateNew         State = "new"         // stored, not yet routed
	StateQueued      State = "queued"      // waiting in a queue
	StateOffered     State = "offered"     // offered to one agent, who may accept or decline
	StateHandling    State = "handling"    // owned by one agent
	StateParked      State = "parked"      // in a workbin, still owned
	StateTransferred State = "transferred" // offered to another agent, pending acceptance
	StateDone        State = "done"        // marked done
	StateDeleted     State = "deleted"     // deleted by a permitted actor
	// StateQuarantined is mail set aside at intake (a filter's verdict, a
	// blocked sender, a loop): it waits for a supervisor, who releases it
	// (queued, routed as other mail) or deletes it; it is never offered.
	StateQuarantined State = "quarantined"
)

// Outbound states. Outbound emails also use StateParked (drafts workbin) and
// StateDeleted (a discarded draft).
const (
	StateDraft    State = "draft"     // being written, editable
	StateInReview State = "in-review" // frozen, waiting for a reviewer's decision
	StateRejected State = "rejected"  // back with its author, with the reviewer's remarks
	StateOutbox   State = "outbox"    // rendered and queued for delivery
	StateSent     State = "sent"      // handed to the mail transport
	StateFailed   State = "failed"    // delivery gave up; back with the agent
)

// Consult states. A consult also uses StateOffered, StateHandling and
// StateDone.
const (
	StateAnswered State = "answered" // the colleague's answer is attached to the parent
)

// String returns the state's name.
func (s State) String() string { return string(s) }

// Open reports whether an interaction in this state still needs work.
func (s State) Open() bool {
	switch s {
	case StateDone, StateDeleted, StateSent:
		return false
	}
	return true
}

// Event is something that moves an interaction from one state to another.
type Event string

// Events of the state machines.
const (
	EventQueue         Event = "queue"          // new → queued
	EventOffer         Event = "offer"          // queued → offered
	EventAccept        Event = "accept"         // offered/transferred → handling
	EventDecline       Event = "decline"        // offered → queued; transferred → handling (back to the sender)
	EventTimeout       Event = "timeout"        // like decline, when the accept timeout runs out
	EventPull          Event = "pull"           // queued → handling: an agent takes it from the queue
	EventTransfer      Event = "transfer"       // handling → transferred (to an agent)
	EventTransferQueue Event = "transfer-queue" // handling → queued (to a queue)
	EventPark          Event = "park"           // handling/draft → parked
	EventResume        Event = "resume"         // parked → handling/draft
	EventComplete      Event = "complete"       // handling → done (Mark done)
	EventDelete        Event = "delete"         // open → deleted
	EventSend          Event = "send"           // draft → outbox
	EventSubmit        Event = "submit"         // draft/rejected → in-review
	EventApprove       Event = "approve"        // in-review → outbox
	EventReject        Event = "reject"         // in-review → rejected
	EventWithdraw      Event = "withdraw"       // in-review → draft
	EventDeliver       Event = "deliver"        // outbox → sent
	EventFail          Event = "fail"           // outbox → failed
	EventRetry         Event = "retry"          // failed → outbox
	EventEdit          Event = "edit"           // failed/rejected → draft
	EventAnswer        Event = "answer"         // consult: handling → answered
	EventCancel        Event = "cancel"         // consult: offered/handling → done
	EventAssign        Event = "assign"         // queued/parked → parked (into an agent's workbin, by a supervisor)
	EventRequeue       Event = "requeue"        // parked → queued (by a supervisor)
	EventDecide        Event = "decide"         // review: handling → done, by an approval or a rejection only
	EventReopen        Event = "reopen"         // done → handling: an answer came back for its owner
	EventQuarantine    Event = "quarantine"     // new → quarantined: set aside at intake
	EventRelease       Event = "release"        // quarantined → queued: a supervisor lets it through
	EventBounce        Event = "bounce"         // sent → failed: a delivery report says a recipient never got it
)

// String returns the event's name.
func (e Event) String() string { return string(e) }

package emailflow

import "github.com/emailflow/emailflow/port"

// The ports and the records they carry live in package port, which
// adapters import instead of this one; these aliases let a host name
// everything through emailflow alone.

// Store is port.Store: everything the Workspace knows, in transactions.
type Store = port.Store

// Tx is port.Tx: one transaction of a Store.
type Tx = port.Tx

// CheckpointTx is port.CheckpointTx: a Tx that keeps mailbox checkpoints.
type CheckpointTx = port.CheckpointTx

// SenderListTx is port.SenderListTx: a Tx that keeps the sender lists.
type SenderListTx = port.SenderListTx

// RateTx is port.RateTx: a Tx that keeps rate counters.
type RateTx = port.RateTx

// AgentOnlyTx is port.AgentOnlyTx: a Tx that can read an agent for an
// action that decides nothing on its load and does not write it, without
// counting the load or locking the agent.
type AgentOnlyTx = port.AgentOnlyTx

// AsyncCommitTx is port.AsyncCommitTx: a Tx whose commit may return
// before it is durable, asked for where a lost commit is done again.
type AsyncCommitTx = port.AsyncCommitTx

// TimerTx is port.TimerTx: a Tx that claims due timers one at a time.
type TimerTx = port.TimerTx

// OutboxClaimTx is port.OutboxClaimTx: a Tx that claims due outbox items.
type OutboxClaimTx = port.OutboxClaimTx

// Query is port.Query: a selection of interactions.
type Query = port.Query

// Sender is port.Sender: delivers one rendered message.
type Sender = port.Sender

// Directory is port.Directory: finds and records contacts.
type Directory = port.Directory

// ContactEnsurer is port.ContactEnsurer: a Directory that creates a new
// sender's contact atomically.
type ContactEnsurer = port.ContactEnsurer

// Dialer is port.Dialer: places calls where the host has telephony.
type Dialer = port.Dialer

// Clock is port.Clock: tells the time.
type Clock = port.Clock

// IDGenerator is port.IDGenerator: makes unique ids.
type IDGenerator = port.IDGenerator

// Email is port.Email: one message of an interaction.
type Email = port.Email

// Attachment is port.Attachment: a file attached to an email.
type Attachment = port.Attachment

// Direction is port.Direction: whether an email came in or goes out.
type Direction = port.Direction

// Directions of an email.
const (
	Inbound  = port.Inbound
	Outbound = port.Outbound
)

// Envelope is port.Envelope: the SMTP envelope a message arrived with.
type Envelope = port.Envelope

// Verdict is port.Verdict: a filter's decision on a message.
type Verdict = port.Verdict

// VerdictAction is port.VerdictAction: what a filter decides.
type VerdictAction = port.VerdictAction

// Verdict actions.
const (
	VerdictPass       = port.VerdictPass
	VerdictDeliver    = port.VerdictDeliver
	VerdictQuarantine = port.VerdictQuarantine
	VerdictReject     = port.VerdictReject
)

// OutboxItem is port.OutboxItem: a rendered message waiting for delivery.
type OutboxItem = port.OutboxItem

// OutboxState is port.OutboxState: the delivery state of an outbox item.
type OutboxState = port.OutboxState

// Outbox states.
const (
	OutboxPending   = port.OutboxPending
	OutboxDelivered = port.OutboxDelivered
	OutboxFailed    = port.OutboxFailed
)

// Agent is port.Agent: an agent's identity and routing state.
type Agent = port.Agent

// AgentStatus is port.AgentStatus: an agent's availability for routing.
type AgentStatus = port.AgentStatus

// Agent statuses.
const (
	StatusLoggedOut     = port.StatusLoggedOut
	StatusNotReady      = port.StatusNotReady
	StatusReady         = port.StatusReady
	StatusNotResponding = port.StatusNotResponding
)

// Role is port.Role: what an agent may be in the centre.
type Role = port.Role

// Roles.
const (
	RoleAgent      = port.RoleAgent
	RoleReviewer   = port.RoleReviewer
	RoleSupervisor = port.RoleSupervisor
	RoleAdmin      = port.RoleAdmin
)

// Checkpoint is port.Checkpoint: how far a reader of a mailbox got.
type Checkpoint = port.Checkpoint

// SenderRule is port.SenderRule: an entry of the sender lists.
type SenderRule = port.SenderRule

// ListAction is port.ListAction: what a sender rule does with mail.
type ListAction = port.ListAction

// Sender rule actions.
const (
	ListAllow      = port.ListAllow
	ListQuarantine = port.ListQuarantine
	ListReject     = port.ListReject
)

// Event is port.Event: what happened, for user interfaces.
type Event = port.Event

// EventType is port.EventType: names what happened.
type EventType = port.EventType

// Event types (see port for what each means).
const (
	EventIngested       = port.EventIngested
	EventMessage        = port.EventMessage
	EventQueued         = port.EventQueued
	EventOffered        = port.EventOffered
	EventAccepted       = port.EventAccepted
	EventDeclined       = port.EventDeclined
	EventTimedOut       = port.EventTimedOut
	EventTransferred    = port.EventTransferred
	EventParked         = port.EventParked
	EventResumed        = port.EventResumed
	EventDraft          = port.EventDraft
	EventOutbox         = port.EventOutbox
	EventSent           = port.EventSent
	EventFailed         = port.EventFailed
	EventUpdated        = port.EventUpdated
	EventDone           = port.EventDone
	EventDeleted        = port.EventDeleted
	EventAgentStatus    = port.EventAgentStatus
	EventConsult        = port.EventConsult
	EventAnswered       = port.EventAnswered
	EventCancelled      = port.EventCancelled
	EventAssigned       = port.EventAssigned
	EventCall           = port.EventCall
	EventResourceAnswer = port.EventResourceAnswer
	EventBounced        = port.EventBounced
	EventDelayed        = port.EventDelayed
	EventAutoReply      = port.EventAutoReply
	EventQuarantined    = port.EventQuarantined
	EventReleased       = port.EventReleased
	EventSubmitted      = port.EventSubmitted
	EventApproved       = port.EventApproved
	EventRejected       = port.EventRejected
	EventReviewEdited   = port.EventReviewEdited
	EventWithdrawn      = port.EventWithdrawn
	EventSLAWarning     = port.EventSLAWarning
	EventSLABreached    = port.EventSLABreached
	EventSLAEscalated   = port.EventSLAEscalated
	EventSLANotify      = port.EventSLANotify
	EventPending        = port.EventPending
	EventWoken          = port.EventWoken
)

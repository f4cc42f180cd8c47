package port

import (
	"context"
	"time"

	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/routing"
)

// Store keeps everything the Workspace knows. Every action runs in one
// transaction, so a Store must make all of a transaction's writes visible
// together or not at all. Implementations: store/memory (the embedded
// default); store/storetest is the conformance suite every Store must pass.
type Store interface {
	// Update runs fn in a read-write transaction. When fn returns nil the
	// writes are committed, otherwise none of them is. The Tx must not be
	// used after fn returns. Update returns fn's error unchanged (so callers
	// can match it), or the store's own error on commit.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction; writes return an error.
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is one transaction of a Store. Values handed out are the caller's
// own: changing them changes nothing stored. An interaction or email
// passed to a write (CreateInteraction, UpdateInteraction, PutEmail) is the
// store's after the call succeeds, and a store may keep it as it is (the
// memory store does, saving a copy per write): the caller reads it but
// never changes it, and reads it again from the Tx to change it once more.
// Other values passed in are copied.
type Tx interface {
	// Interaction returns the interaction with id, or ErrNotFound.
	Interaction(ctx context.Context, id string) (*interaction.Interaction, error)
	// CreateInteraction stores a new interaction and sets its Version to 1.
	// An existing id gives ErrConflict.
	CreateInteraction(ctx context.Context, it *interaction.Interaction) error
	// UpdateInteraction replaces the stored interaction when it.Version is
	// the stored version, and increments it.Version. A stale version gives
	// ErrStaleVersion (an ErrConflict), writes nothing and leaves the
	// transaction usable; an unknown id gives ErrNotFound.
	UpdateInteraction(ctx context.Context, it *interaction.Interaction) error
	// FindInteractions returns the interactions matching q, ordered by
	// priority (highest first), then QueuedAt, then CreatedAt, then id.
	FindInteractions(ctx context.Context, q Query) ([]*interaction.Interaction, error)
	// Load counts the interactions that take agent's capacity: offered to
	// the agent, handled by the agent, or transferred by the agent and not
	// yet accepted (a transfer comes back to its sender unless taken).
	Load(ctx context.Context, agent string) (int, error)

	// Email returns the email with id, or ErrNotFound.
	Email(ctx context.Context, id string) (*Email, error)
	// EmailsOf returns the emails of an interaction, oldest first.
	EmailsOf(ctx context.Context, interactionID string) ([]*Email, error)
	// EmailByMessageID returns the email with this Message-ID (without
	// angle brackets), or ErrNotFound.
	EmailByMessageID(ctx context.Context, messageID string) (*Email, error)
	// EmailsByMessageIDs returns the emails holding these Message-IDs
	// (each the one EmailByMessageID returns), in the order of ids; ids
	// that name no email are left out. It is one lookup however many ids
	// it is given (the Workspace gives a bounded number).
	EmailsByMessageIDs(ctx context.Context, ids []string) ([]*Email, error)
	// PutEmail inserts or replaces an email.
	PutEmail(ctx context.Context, e *Email) error

	// ClaimIngest records that the message with the idempotency key belongs
	// to interactionID. When the key was claimed before, it returns the
	// earlier interaction id and false, and records nothing.
	ClaimIngest(ctx context.Context, key, interactionID string) (owner string, claimed bool, err error)

	// Enqueue adds an outbox item; an existing id gives ErrConflict.
	Enqueue(ctx context.Context, o *OutboxItem) error
	// OutboxItem returns the outbox item with id, or ErrNotFound.
	OutboxItem(ctx context.Context, id string) (*OutboxItem, error)
	// UpdateOutbox replaces an outbox item.
	UpdateOutbox(ctx context.Context, o *OutboxItem) error
	// DueOutbox returns up to limit pending items whose NextAttempt is not
	// after now, oldest NextAttempt first.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]*OutboxItem, error)

	// AppendEvent adds an event to the log and sets its Seq (increasing).
	AppendEvent(ctx context.Context, e *Event) error
	// Events returns up to limit events with Seq greater than after.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)

	// Agent returns the agent with id, or ErrNotFound.
	Agent(ctx context.Context, id string) (*Agent, error)
	// PutAgent inserts or replaces an agent's routing record.
	PutAgent(ctx context.Context, a *Agent) error
	// Agents returns the agents serving queue (all agents when queue is
	// empty), ordered by id.
	Agents(ctx context.Context, queue string) ([]*Agent, error)
	// AvailableAgents returns a page of the agents serving queue that are
	// ready and below their capacity (Load < MaxLoad), longest idle first
	// (IdleSince, then id), as routing sees them (Ready true, Load set,
	// Roles the agent's role names, "agent" when it has none set). Routing reads pages until it finds an
	// eligible agent, so this must be cheap for a small limit however many
	// agents there are, busy or not.
	AvailableAgents(ctx context.Context, queue string, offset, limit int) ([]routing.Agent, error)
	// Waiting returns a page of the interactions queued in queue, in
	// routing order (priority highest first, then QueuedAt, CreatedAt, id),
	// as routing sees them. Like AvailableAgents it must be cheap for a
	// small limit however long the queue is.
	Waiting(ctx context.Context, queue string, offset, limit int) ([]routing.Item, error)
}

// Query selects interactions. Empty fields match everything; Limit 0 means
// no limit.
type Query struct {
	Kind      interaction.Kind
	States    []interaction.State
	Owner     string
	OfferedTo string
	Queue     string
	Workbin   string
	ThreadID  string
	ContactID string
	Offset    int // matches skipped, in order
	Limit     int
}

// Sender delivers one rendered RFC 5322 message to its recipients. It must
// be safe for concurrent use. A Sender that returns an error is retried
// later with the same bytes (and so the same Message-ID), unless the error
// (or one it wraps) has a method Permanent() bool that returns true, such
// as an SMTP 5xx refusal: the email then fails back to its agent at once.
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Directory finds and records contacts. store/memory implements it; a host
// usually plugs in its CRM.
type Directory interface {
	// Contact returns the contact with id, or ErrNotFound.
	Contact(ctx context.Context, id string) (contact.Contact, error)
	// ContactsByAddress returns the contacts having this email address
	// (compared in contact.NormalizeAddress form), newest first.
	ContactsByAddress(ctx context.Context, addr string) ([]contact.Contact, error)
	// CreateContact stores a new contact; an existing id gives ErrConflict.
	CreateContact(ctx context.Context, c contact.Contact) error
	// UpdateContact replaces a stored contact; an unknown id gives
	// ErrNotFound.
	UpdateContact(ctx context.Context, c contact.Contact) error
	// SearchContacts returns a page of the contacts matching query by
	// name, email address or phone number, case- and accent-insensitively
	// ("helene" finds "Hélène"), and how many match in all.
	SearchContacts(ctx context.Context, query string, page contact.Page) (contact.Result, error)
}

// ContactEnsurer is a Directory that creates the contact of a new sender
// atomically (an optional ability, found by type assertion). With it, two
// first messages from one address taken in at once, even by two
// processes, give one contact. store/memory and store/postgres have it;
// with a Directory that has not, Ingest keeps to one contact per address
// within its own process only.
type ContactEnsurer interface {
	// EnsureContact returns the contacts having c's first email address
	// (compared in contact.NormalizeAddress form), newest first, when
	// there are any; otherwise it creates c and returns it alone. Errors
	// as for CreateContact.
	EnsureContact(ctx context.Context, c contact.Contact) ([]contact.Contact, error)
}

// Dialer places calls where the host has telephony (optional port).
type Dialer interface {
	// Dial asks the telephony system to call number on behalf of agent,
	// about interaction, and returns the call's id there.
	Dial(ctx context.Context, agent, number, interaction string) (callID string, err error)
}

// Clock tells the time and wakes who waits on it; inject one to drive
// timers in tests. github.com/jonboulle/clockwork's FakeClock is one:
// advancing it wakes a Runner waiting on After.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the clock's time once d has
	// passed on the clock.
	After(d time.Duration) <-chan time.Time
}

// IDGenerator makes unique ids for interactions, emails, outbox items.
// Ids must be unique across every process sharing a Store.
type IDGenerator interface {
	NewID() string
}

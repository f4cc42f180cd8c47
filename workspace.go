package emailflow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emailflow/emailflow/businesstime"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
	"github.com/emailflow/emailflow/qa"
	"github.com/emailflow/emailflow/sla"
)

// Ports are the host's implementations of what the Workspace needs.
type Ports struct {
	Store  Store  // required
	Sender Sender // required
	// Directory finds contacts; nil means the Store, when it implements
	// Directory (store/memory does).
	Directory Directory
	Clock     Clock       // nil means the system clock
	IDs       IDGenerator // nil means random-prefixed sequential ids
	// Dialer places calls to contacts; nil means the site has no telephony.
	Dialer Dialer
}

// Mailbox is one of the centre's own addresses. A mailbox is named by its
// address, a plain string, everywhere: here, in Ingest, Email.Mailbox,
// Interaction.Mailbox and a draft's From; the display name is
// configuration, given here once.
type Mailbox struct {
	Address string // "support@boutique.example"
	Name    string // the display name mail from it carries: "Service Client"
	Queue   string // the queue its mail goes to; empty means Options.DefaultQueue
}

// mailAddress is the mailbox as the From of mail it sends.
func (m Mailbox) mailAddress() mail.Address { return mail.Address{Name: m.Name, Address: m.Address} }

// CaseField declares a case data key every new inbound interaction gets.
type CaseField struct {
	Key      string
	Value    string // initial value
	ReadOnly bool
}

// Options configure a Workspace. The zero value is usable: every field has
// a default.
type Options struct {
	// Hostname is the domain of the Message-IDs we generate. Default
	// "emailflow.invalid".
	Hostname string
	// Mailboxes are the centre's own addresses. Ingest accepts mail for any
	// mailbox; one listed here routes to its queue and gives replies its
	// display name; all are left out of reply-all recipients.
	Mailboxes []Mailbox
	// DefaultQueue receives mail for mailboxes without a queue. Default
	// "default".
	DefaultQueue string
	// Queues configure queues: required skills and role, default priority.
	// A queue not listed has no requirement.
	Queues []Queue
	// Routes send inbound mail to queues by address; the first match wins.
	// Mail no route matches goes to its mailbox's queue.
	Routes []Route
	// SplitRecipients makes one interaction per mailbox an email was
	// delivered to. By default an email sent to several of our addresses
	// (same Message-ID) is one interaction.
	SplitRecipients bool
	// TeamWorkbins are the names of the workbins shared by the team.
	TeamWorkbins []string
	// StickyFor is how long a customer's follow-up is reserved for the
	// agent who last handled the thread before anyone may take it. Zero
	// turns sticky routing off.
	StickyFor time.Duration
	// AcceptTimeout is how long an offer waits for the agent; at least 7 s.
	// Default 30 s.
	AcceptTimeout time.Duration
	// Dispositions lists the allowed disposition codes; empty allows any.
	Dispositions []string
	// DispositionRequired refuses Mark done without a disposition.
	DispositionRequired bool
	// CompleteOnReply marks the inbound done when its reply (or reply all)
	// is sent; otherwise it stays open with its agent.
	CompleteOnReply bool
	// CaseData lists the keys every new inbound interaction starts with,
	// after the system's read-only keys (Subject, From, Mailbox, Received).
	CaseData []CaseField
	// NoContactCreation leaves senders unknown to the Directory without a
	// contact instead of creating one, whatever ContactRules say.
	NoContactCreation bool
	// ContactRules decide for which unknown senders a contact is created:
	// the first rule that matches decides, and a contact is created when
	// none does. Nil means DefaultContactRules (none for quarantined mail,
	// bounces, mailer daemons and noreply addresses); an empty, non-nil
	// list creates one for every sender.
	ContactRules []ContactRule
	// Filters are consulted by Ingest, in order, after the sender lists,
	// for mail on its way to agents (see Filter): the first decisive
	// verdict delivers, quarantines or rejects it. UpstreamFilter reads an
	// upstream spam filter's verdict; FilterFunc plugs in the host's own
	// classifier.
	Filters []Filter
	// QuarantineQueue is where quarantined mail waits for a supervisor.
	// Empty keeps it in the queue it would have gone to, for that
	// queue's supervisors (PrivilegeSupervise and PrivilegeFilter).
	QuarantineQueue string
	// BounceQueue receives bounces that name none of our emails (mail
	// sent outside the desk, backscatter of forged mail), without a
	// contact. Empty routes them as other mail, still without a contact
	// or an acknowledgement.
	BounceQueue string
	// AutoRepliesAsMail takes automated mail that joins a conversation
	// (out-of-office answers, auto-replies) in as the customer's: a
	// follow-up of the open inbound, or a new inbound when the
	// conversation is done. By default it is stored on the conversation
	// as automatic and offered to nobody.
	AutoRepliesAsMail bool
	// AutoMailLimit bounds the automated mail one sender gets in: beyond
	// it, the sender's automated mail is quarantined, which breaks loops
	// with other automatic responders. The zero value means
	// DefaultAutoMailLimit an hour.
	AutoMailLimit RateLimit
	// AckLimit bounds the acknowledgements (AutoAcknowledge) one address
	// receives: beyond it, none is sent. The zero value means
	// DefaultAckLimit an hour.
	AckLimit RateLimit
	// ChooseContact picks the contact of a sender whose address several
	// contacts share; nil means contact.MostRecent. An error leaves the
	// email without a contact.
	ChooseContact contact.Chooser
	// Signatures go in the drafts agents start: the agent's own, else the
	// mailbox's; under the agent's text, above a reply's or forward's quote.
	// Field codes ({{agent.name}}, {{contact.firstName}}...) are filled.
	Signatures *compose.Signatures
	// Responses are the standard responses agents insert with
	// InsertResponse.
	Responses *compose.Library
	// AutoAcknowledge, when set, answers the first email of every new
	// conversation at once with this template, marked
	// "Auto-Submitted: auto-replied" and never sent to automated mail
	// (auto-replies, bulk and list mail, bounces) or to our own mailboxes.
	// It goes to one address only: the first of the customer's Reply-To,
	// else their From.
	AutoAcknowledge *compose.Template
	// Parse sets the limits of inbound messages (nil: compose defaults).
	Parse *compose.ParseOptions
	// QuoteLanguage is the language of the "On … wrote:" line of replies.
	QuoteLanguage string
	// ManualDispatch leaves sent mail in the outbox for a Runner (Dispatch
	// or Run) instead of delivering it right after Send.
	ManualDispatch bool
	// MaxAttempts is how many deliveries are tried before an outbound
	// fails back to its agent. Default 8.
	MaxAttempts int
	// RetryBackoff is the wait after the first failed delivery; it doubles
	// after each failure. Default 30 s.
	RetryBackoff time.Duration
	// DeliveryLease is how long a delivery keeps other dispatchers (in
	// other processes) away from its outbox item; it is renewed while the
	// Sender works, so it bounds only how soon the item is tried again
	// after a crash. Default 30 s.
	DeliveryLease time.Duration
	// ReopenOnResourceAnswer makes an external resource's answer to a
	// forward bring a parked or done inbound back to handling with its
	// owner. By default the inbound stays as it is: the answer is stored
	// on it with a history entry and an EventResourceAnswer for its owner.
	ReopenOnResourceAnswer bool
	// ReviewPolicy decides at Send which outbound emails a reviewer must
	// approve before they go out (see package qa). Nil means
	// qa.OnRequest(): only the emails whose author asks for it (SendWith).
	ReviewPolicy qa.Policy
	// ReviewQueue is the queue review items wait in; its agents need a role
	// holding PrivilegeReview (reviewers and supervisors by default) unless
	// Queues gives it a role. Default "review".
	ReviewQueue string
	// RejectReasons are the reason codes a reviewer rejects with. Default
	// qa.DefaultRejectReasons.
	RejectReasons []string
	// Privileges is the privilege set per role; nil means DefaultPrivileges.
	Privileges map[Role][]Privilege
	// Limits bound what agents write; the zero value means the defaults.
	Limits Limits
	// Calendars are the business calendars service-level targets count
	// in, each named by its Name (see package businesstime).
	Calendars []businesstime.Config
	// ServiceLevels are the policies that set an inbound's deadlines
	// (first response, next response, resolution) and the rules that
	// choose one by queue, route (Route.Name) and priority (see package
	// sla and docs/sla.md). The zero value sets no deadline; pending
	// periods still wake.
	ServiceLevels sla.Config
	// WakeToQueue sends a pending interaction back to its queue when its
	// period ends, rather than to its owner (see SetPending).
	WakeToQueue bool
	// Logger receives what cannot be returned (delivery failures in the
	// background). Nil discards.
	Logger *slog.Logger
}

// Workspace is the facade of emailflow: every agent action goes through it.
// It is safe for concurrent use; many Workspaces (in many processes) may
// share one Store.
type Workspace struct {
	store  Store
	sender Sender
	dir    Directory
	clock  Clock
	ids    IDGenerator
	dialer Dialer
	opts   Options
	own    map[string]bool // normalized own addresses
	log    *slog.Logger
	// reviewRoles are the roles holding PrivilegeReview: what the review
	// queue requires when Options.Queues gives it no role.
	reviewRoles []string

	subMu sync.RWMutex
	subs  map[*Subscription]struct{}
	feed  EventFeed // the store's, when it has one
	fol   follower  // guarded by subMu

	// creating serializes the creation of one sender's contact, for a
	// Directory that cannot (see ContactEnsurer).
	creating keyedMutex
	// pruned is the minute (Unix seconds) rate counters were last pruned.
	pruned atomic.Int64
	// rates count in memory for a Store that keeps no counters (RateTx).
	rates localRates
	// sl holds the service-level policies.
	sl serviceLevels
}

// New returns a Workspace on the given ports. It fails with ErrInvalidInput
// when a required port is missing or an option is out of range.
func New(p Ports, opts *Options) (*Workspace, error) {
	if p.Store == nil {
		return nil, fmt.Errorf("%w: Ports.Store is required", ErrInvalidInput)
	}
	if p.Sender == nil {
		return nil, fmt.Errorf("%w: Ports.Sender is required", ErrInvalidInput)
	}
	w := &Workspace{store: p.Store, sender: p.Sender, dir: p.Directory, clock: p.Clock, ids: p.IDs, dialer: p.Dialer, subs: map[*Subscription]struct{}{}}
	w.feed, _ = p.Store.(EventFeed)
	if w.dir == nil {
		d, ok := p.Store.(Directory)
		if !ok {
			return nil, fmt.Errorf("%w: Ports.Directory is required when the Store is not a Directory", ErrInvalidInput)
		}
		w.dir = d
	}
	if w.clock == nil {
		w.clock = systemClock{}
	}
	if w.ids == nil {
		w.ids = NewIDGenerator()
	}
	if opts != nil {
		w.opts = *opts
	}
	o := &w.opts
	if o.Hostname == "" {
		o.Hostname = "emailflow.invalid"
	}
	if strings.ContainsAny(o.Hostname, "<>@ \r\n") {
		return nil, fmt.Errorf("%w: Options.Hostname %q is not a host name", ErrInvalidInput, o.Hostname)
	}
	if o.DefaultQueue == "" {
		o.DefaultQueue = "default"
	}
	if o.AcceptTimeout == 0 {
		o.AcceptTimeout = 30 * time.Second
	}
	if o.AcceptTimeout < 7*time.Second {
		return nil, fmt.Errorf("%w: Options.AcceptTimeout %v is under the 7 s minimum", ErrInvalidInput, o.AcceptTimeout)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 30 * time.Second
	}
	if o.DeliveryLease <= 0 {
		o.DeliveryLease = 30 * time.Second
	}
	if o.Privileges == nil {
		o.Privileges = DefaultPrivileges
	}
	for r, ps := range o.Privileges {
		if slices.Contains(ps, PrivilegeReview) {
			w.reviewRoles = append(w.reviewRoles, string(r))
		}
	}
	slices.Sort(w.reviewRoles)
	if err := o.Limits.withDefaults(); err != nil {
		return nil, err
	}
	if o.ContactRules == nil {
		o.ContactRules = DefaultContactRules
	}
	for _, r := range o.ContactRules {
		if _, err := path.Match(r.Sender, ""); err != nil {
			return nil, fmt.Errorf("%w: contact rule pattern %q: %v", ErrInvalidInput, r.Sender, err)
		}
	}
	for i, f := range o.Filters {
		if f == nil {
			return nil, fmt.Errorf("%w: Options.Filters[%d] is nil", ErrInvalidInput, i)
		}
	}
	if err := checkRateLimit("AutoMailLimit", o.AutoMailLimit); err != nil {
		return nil, err
	}
	if err := checkRateLimit("AckLimit", o.AckLimit); err != nil {
		return nil, err
	}
	o.AutoMailLimit = o.AutoMailLimit.withDefault(DefaultAutoMailLimit)
	o.AckLimit = o.AckLimit.withDefault(DefaultAckLimit)
	sl, err := newServiceLevels(o)
	if err != nil {
		return nil, err
	}
	w.sl = sl
	w.log = o.Logger
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.own = map[string]bool{}
	for _, m := range o.Mailboxes {
		if _, err := mail.ParseAddress(m.Address); err != nil {
			return nil, fmt.Errorf("%w: mailbox address %q: %v", ErrInvalidInput, m.Address, err)
		}
		w.own[strings.ToLower(m.Address)] = true
	}
	return w, nil
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// idGenerator makes ids from a random per-process prefix and a counter:
// unique across processes, cheap, and sortable within one process.
type idGenerator struct {
	prefix string
	n      atomic.Uint64
}

// NewIDGenerator returns the default IDGenerator: a random 48-bit prefix per
// generator and a counter, such as "3f9a1c0b2e4d-1k".
func NewIDGenerator() IDGenerator {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &idGenerator{prefix: hex.EncodeToString(b[:])}
}

func (g *idGenerator) NewID() string {
	var b [32]byte // one allocation: the string
	id := strconv.AppendUint(append(append(b[:0], g.prefix...), '-'), g.n.Add(1), 36)
	return string(id)
}

// tx is what an action's transaction function receives: the store's Tx and
// the events to publish after the commit.
type tx struct {
	Tx
	w      *Workspace
	ctx    context.Context
	now    time.Time
	events []Event
}

// CreateInteraction stores a new interaction, its service levels brought
// up to date first (see slaSync).
func (t *tx) CreateInteraction(ctx context.Context, it *interaction.Interaction) error {
	if err := t.w.slaSync(t, it); err != nil {
		return err
	}
	return t.Tx.CreateInteraction(ctx, it)
}

// UpdateInteraction writes an interaction, its service levels brought up
// to date first (see slaSync).
func (t *tx) UpdateInteraction(ctx context.Context, it *interaction.Interaction) error {
	if err := t.w.slaSync(t, it); err != nil {
		return err
	}
	return t.Tx.UpdateInteraction(ctx, it)
}

// updateLast is UpdateInteraction for an action that fails with any
// error of the write: a store that can (port.LastWriteTx) checks it with
// the statements after it or the commit, saving a round trip.
func (t *tx) updateLast(it *interaction.Interaction) error {
	if err := t.w.slaSync(t, it); err != nil {
		return err
	}
	if l, ok := t.Tx.(port.LastWriteTx); ok {
		return l.UpdateInteractionLast(t.ctx, it)
	}
	return t.Tx.UpdateInteraction(t.ctx, it)
}

// emit writes an event in the transaction and keeps it for publishing.
func (t *tx) emit(typ EventType, it *interaction.Interaction, agent, actor, detail string) error {
	return t.appendEvent(Event{Type: typ, InteractionID: it.ID, Agent: agent, Actor: actor, State: it.State, At: t.now, Detail: detail})
}

// emitAgent writes an agent-status event in the transaction.
func (t *tx) emitAgent(agent, actor string, s AgentStatus) error {
	return t.appendEvent(Event{Type: EventAgentStatus, Agent: agent, Actor: actor, At: t.now, Detail: string(s)})
}

// appendEvent writes e to the store's log and keeps it for publishing. The
// store sets Seq through a pointer into the kept list, so the event is not
// allocated once more on its own.
func (t *tx) appendEvent(e Event) error {
	if t.events == nil {
		t.events = make([]Event, 0, 2) // most actions emit one or two
	}
	t.events = append(t.events, e)
	if err := t.AppendEvent(t.ctx, &t.events[len(t.events)-1]); err != nil {
		t.events = t.events[:len(t.events)-1]
		return err
	}
	return nil
}

// copies returns a copy of each interaction: what an action hands its
// host, as the values it wrote are the store's (see Tx).
func copies(its []*interaction.Interaction) []*interaction.Interaction {
	for i, it := range its {
		its[i] = it.Clone()
	}
	return its
}

// update runs fn in one store transaction and publishes its events after
// the commit. A transaction that lost an optimistic race (ErrConflict) is
// retried from the start, so the loser sees the winner's state and gets the
// error that state gives (ErrInvalidTransition, ErrForbidden).
func (w *Workspace) update(ctx context.Context, fn func(t *tx) error) error {
	var t *tx
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = w.store.Update(ctx, func(stx Tx) error {
			t = &tx{Tx: stx, w: w, ctx: ctx, now: w.clock.Now()}
			return fn(t)
		})
		// errStale and qa.ErrChanged are conflicts with a snapshot taken
		// outside the transaction: running it again cannot help.
		if !errors.Is(err, ErrConflict) || errors.Is(err, errStale) || errors.Is(err, qa.ErrChanged) {
			break
		}
	}
	if err != nil {
		return err
	}
	w.publish(t.events)
	return nil
}

// view runs fn in a read-only transaction.
func (w *Workspace) view(ctx context.Context, fn func(t *tx) error) error {
	return w.store.View(ctx, func(stx Tx) error {
		return fn(&tx{Tx: stx, w: w, ctx: ctx, now: w.clock.Now()})
	})
}

// agent loads the acting agent and checks privilege p (none when p is
// empty: a read, which the visibility rule decides; see canSee).
func (w *Workspace) agent(t *tx, id string, p Privilege) (*Agent, error) {
	return w.agentLoad(t, id, p, true)
}

// agentLoad loads the acting agent and checks privilege p. With load
// false it is for an action that decides nothing on the agent's load and
// does not write the agent (see port.AgentOnlyTx): the store may leave
// out the count and the lock that makes actions on one agent take turns.
func (w *Workspace) agentLoad(t *tx, id string, p Privilege, load bool) (*Agent, error) {
	a, err := readAgent(t, id, load)
	return w.checkAgent(id, p, a, err)
}

// readAgent reads the acting agent as agentLoad does (load: with its
// load, see agentLoad) but leaves the verdict to checkAgent: an action
// that reads the agent with other reads, in one round trip, and reports a
// refusal of the agent after theirs. The error is the store's as is
// (ErrNotFound for an unknown agent), or ErrForbidden for no agent.
func readAgent(t *tx, id string, load bool) (*Agent, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: no acting agent", ErrForbidden)
	}
	if o, ok := t.Tx.(port.AgentOnlyTx); ok && !load {
		return o.AgentOnly(t.ctx, id)
	}
	return t.Agent(t.ctx, id)
}

// checkAgent checks what readAgent returned for agent id: an unknown
// agent, or one lacking privilege p (none when p is empty), is refused
// with ErrForbidden.
func (w *Workspace) checkAgent(id string, p Privilege, a *Agent, err error) (*Agent, error) {
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown agent %q", ErrForbidden, id)
	}
	if err != nil {
		return nil, err
	}
	if p != "" && !w.may(a, p) {
		return nil, fmt.Errorf("%w: agent %s lacks the %q privilege", ErrForbidden, id, p)
	}
	return a, nil
}

func (w *Workspace) may(a *Agent, p Privilege) bool {
	for _, r := range a.RoleNames() {
		for _, q := range w.opts.Privileges[Role(r)] {
			if q == p {
				return true
			}
		}
	}
	return false
}

// readAhead is a Tx that can send a read before it is made, with its next
// round trip (store/postgres): an action that knows what it will read
// says so first, and the read costs no round trip of its own. A later
// Interaction or EmailsOf of the same id answers from it, as a read made
// at that point would have.
type readAhead interface {
	PrefetchInteraction(ctx context.Context, id string)
	PrefetchEmails(ctx context.Context, interactionID string)
}

// aheadInteraction tells the store interaction id will be read, when it
// can read ahead.
func (t *tx) aheadInteraction(id string) {
	if r, ok := t.Tx.(readAhead); ok && id != "" {
		r.PrefetchInteraction(t.ctx, id)
	}
}

// aheadEmails tells the store the emails of interaction id will be read,
// when it can read ahead.
func (t *tx) aheadEmails(id string) {
	if r, ok := t.Tx.(readAhead); ok && id != "" {
		r.PrefetchEmails(t.ctx, id)
	}
}

// messageIDsAhead is a Tx that can send the read of the emails some
// Message-IDs name before it is made (store/postgres): a later
// EmailsByMessageIDs of the same ids answers from it.
// In a View, it can also send the read of the interactions holding
// those emails: a later Interaction of one of them answers from it.
type messageIDsAhead interface {
	PrefetchEmailsByMessageIDs(ctx context.Context, ids []string)
	PrefetchInteractionsByMessageIDs(ctx context.Context, ids []string)
}

// aheadMessageIDs tells the store the emails ids name will be read, and
// the interactions holding the emails refs name, when it can read ahead.
func (t *tx) aheadMessageIDs(ids, refs []string) {
	r, ok := t.Tx.(messageIDsAhead)
	if !ok {
		return
	}
	if len(ids) > 0 {
		r.PrefetchEmailsByMessageIDs(t.ctx, ids)
	}
	if len(refs) > 0 {
		r.PrefetchInteractionsByMessageIDs(t.ctx, refs)
	}
}

// contactsAhead is a Tx that can send a read of the contacts of a
// Directory (its Store's, store/postgres) with its next round trip: the
// sender's contacts with Ingest's look-ups, the contact of the inbound a
// reply answers with its read. The answer is taken, once its batch went,
// in the transaction's snapshot; the Tx sends nothing for it (ok false:
// the Directory is asked as before).
type contactsAhead interface {
	// Directory is the Directory whose contacts it reads.
	Directory() Directory
	PrefetchContactsByAddress(ctx context.Context, addr string)
	ContactsByAddressRead(addr string) (found []contact.Contact, ok bool, err error)
	PrefetchContactOf(ctx context.Context, interactionID string)
	ContactOfRead(interactionID string) (c contact.Contact, ok bool, err error)
}

// contactsAhead returns the Tx's contactsAhead when the contacts it
// reads are the Workspace's Directory's: another Directory (a CRM) keeps
// its own.
func (t *tx) contactsAhead() (contactsAhead, bool) {
	r, ok := t.Tx.(contactsAhead)
	if !ok || !sameValue(r.Directory(), t.w.dir) {
		return nil, false
	}
	return r, true
}

// acting checks that agent may act with privilege p, then loads
// interaction id: the opening of most actions.
func (w *Workspace) acting(t *tx, agent string, p Privilege, id string) (*interaction.Interaction, error) {
	return w.actingLoad(t, agent, p, id, true)
}

// actingOnly is acting for an action that does not read the agent's
// load (see agentLoad).
func (w *Workspace) actingOnly(t *tx, agent string, p Privilege, id string) (*interaction.Interaction, error) {
	return w.actingLoad(t, agent, p, id, false)
}

func (w *Workspace) actingLoad(t *tx, agent string, p Privilege, id string, load bool) (*interaction.Interaction, error) {
	t.aheadInteraction(id) // with the agent's read
	if _, err := w.agentLoad(t, agent, p, load); err != nil {
		return nil, err
	}
	return t.Interaction(t.ctx, id)
}

// actingOwner is acting for an interaction the agent must own.
func (w *Workspace) actingOwner(t *tx, agent string, p Privilege, id string) (*interaction.Interaction, error) {
	t.aheadInteraction(id) // with the agent's read
	if _, err := w.agent(t, agent, p); err != nil {
		return nil, err
	}
	return owned(t, agent, id)
}

// owned loads interaction id and checks that agent owns it.
func owned(t *tx, agent, id string) (*interaction.Interaction, error) {
	it, err := t.Interaction(t.ctx, id)
	if err != nil {
		return nil, err
	}
	if err := it.CheckOwner(agent); err != nil {
		return nil, err
	}
	return it, nil
}

// sameValue reports whether a and b are the same object: pointers of
// one type to the same place (other values are not compared, which could
// panic).
func sameValue(a, b any) bool {
	ta := reflect.TypeOf(a)
	return ta != nil && ta.Kind() == reflect.Pointer && ta == reflect.TypeOf(b) && a == b
}

package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

var (
	_ port.Store          = (*Store)(nil)
	_ port.Directory      = (*Store)(nil)
	_ port.ContactEnsurer = (*Store)(nil)
	_ port.SenderListTx   = (*txn)(nil)
	_ port.RateTx         = (*txn)(nil)
)

// errReadOnly is returned by writes in a View transaction.
var errReadOnly = errors.New("memory: write in a read-only transaction")

// Options configure a Store. Nil means the defaults.
type Options struct {
	// EventLog is how many recent events the store keeps for
	// Workspace.Events; older ones are dropped. Default 100,000. An
	// event read back has At's instant and zone offset, not its zone's
	// name nor a monotonic clock reading (as from a SQL store).
	EventLog int
}

// Store is an in-memory emailflow Store and Directory. The zero value is
// not usable: create one with New.
type Store struct {
	mu sync.RWMutex

	interactions map[string]*interaction.Interaction
	byThread     map[string][]string
	byContact    map[string][]string
	byState      map[interaction.State]set // open states only
	byOwner      map[string]set            // open interactions by owner
	byOffered    map[string]set            // interactions offered to an agent
	load         map[string]int

	emails   map[string]*port.Email
	emailsOf map[string][]string
	byMsgID  map[string]string
	ingest   map[string]string

	outbox  map[string]*port.OutboxItem
	pending set

	events ring
	seq    int64

	agents map[string]*port.Agent
	roles  map[string][]string // agent id → role names, for routing

	waiting map[string]*btree.BTreeG[waitKey]  // queued interactions per queue
	ready   map[string]*btree.BTreeG[readyKey] // ready agents per queue
	// due holds the interactions with a next service-level instant;
	// dueWaiting each queue's waiting interactions by due time.
	due        *btree.BTreeG[dueKey]
	dueWaiting map[string]*btree.BTreeG[dueWaitKey]

	senderRules map[string]port.SenderRule
	rates       map[rateKey]int

	contacts *contact.Index
	// ensuring serializes EnsureContact: a look-up then a creation.
	ensuring sync.Mutex

	checkpoints map[string]port.Checkpoint // made at the first write

	guard guard // race builds: written values stay unchanged
}

type set map[string]struct{}

func (s set) add(id string)    { s[id] = struct{}{} }
func (s set) remove(id string) { delete(s, id) }

// New returns an empty Store.
func New(opts *Options) *Store {
	s := &Store{
		interactions: map[string]*interaction.Interaction{},
		byThread:     map[string][]string{},
		byContact:    map[string][]string{},
		byState:      map[interaction.State]set{},
		byOwner:      map[string]set{},
		byOffered:    map[string]set{},
		load:         map[string]int{},
		emails:       map[string]*port.Email{},
		emailsOf:     map[string][]string{},
		byMsgID:      map[string]string{},
		ingest:       map[string]string{},
		outbox:       map[string]*port.OutboxItem{},
		pending:      set{},
		agents:       map[string]*port.Agent{},
		roles:        map[string][]string{},
		waiting:      map[string]*btree.BTreeG[waitKey]{},
		ready:        map[string]*btree.BTreeG[readyKey]{},
		due:          btree.NewG(btreeDegree, dueLess),
		dueWaiting:   map[string]*btree.BTreeG[dueWaitKey]{},
		senderRules:  map[string]port.SenderRule{},
		rates:        map[rateKey]int{},
		contacts:     contact.NewIndex(),
	}
	s.events.max = 100_000
	if opts != nil && opts.EventLog > 0 {
		s.events.max = opts.EventLog
	}
	return s
}

// Update runs fn in a read-write transaction; see port.Store.
func (s *Store) Update(ctx context.Context, fn func(port.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &txn{s: s}
	t.undo = t.first[:0]
	committed := false
	defer func() {
		// Also when fn panics: whoever recovers the panic must find the
		// store as it was, indexes included.
		t.done = true
		if !committed {
			t.rollback()
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	committed = true
	return nil
}

// View runs fn in a read-only transaction; see port.Store.
func (s *Store) View(ctx context.Context, fn func(port.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := &txn{s: s, readOnly: true}
	err := fn(t)
	t.done = true
	return err
}

// txn is one transaction. Writes go straight to the maps; undo records how
// to take each back.
type txn struct {
	s        *Store
	readOnly bool
	done     bool
	undo     []func()
	appended int // events appended to the log
	// first holds the undo steps of a typical action's writes, so that
	// recording them allocates no list.
	first [8]func()
}

func (t *txn) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
	for ; t.appended > 0; t.appended-- {
		t.s.events.pop()
		t.s.seq--
	}
}

func (t *txn) writable() error {
	if t.done {
		return errors.New("memory: transaction used after it ended")
	}
	if t.readOnly {
		return errReadOnly
	}
	return nil
}

func (t *txn) readable() error {
	if t.done {
		return errors.New("memory: transaction used after it ended")
	}
	return nil
}

// notFound reports a missing record. Lookups that miss are routine on hot
// paths (a new Message-ID at ingest), so the message is only formatted
// when someone reads it.
func notFound(what, id string) error { return &notFoundError{what, id} }

type notFoundError struct{ what, id string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("%v: no %s %q", port.ErrNotFound, e.what, e.id)
}

func (e *notFoundError) Unwrap() error { return port.ErrNotFound }

// handOutInteraction returns the caller's own copy of a stored
// interaction, after the race-build guard checked it is as written.
func (s *Store) handOutInteraction(it *interaction.Interaction) *interaction.Interaction {
	s.guard.checkInteraction(it)
	return it.Clone()
}

// handOutEmail is handOutInteraction for emails.
func (s *Store) handOutEmail(e *port.Email) *port.Email {
	s.guard.checkEmail(e)
	return e.Clone()
}

// Interaction implements port.Tx.
func (t *txn) Interaction(_ context.Context, id string) (*interaction.Interaction, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	it, ok := t.s.interactions[id]
	if !ok {
		return nil, notFound("interaction", id)
	}
	return t.s.handOutInteraction(it), nil
}

// CreateInteraction implements port.Tx.
func (t *txn) CreateInteraction(_ context.Context, it *interaction.Interaction) error {
	if err := t.writable(); err != nil {
		return err
	}
	if it.ID == "" {
		return fmt.Errorf("%w: interaction without id", port.ErrInvalidInput)
	}
	if _, ok := t.s.interactions[it.ID]; ok {
		return fmt.Errorf("%w: interaction %q exists", port.ErrConflict, it.ID)
	}
	it.Version = 1
	c := it // kept as it is: the caller does not change it after the write
	t.s.interactions[c.ID] = c
	t.s.guard.tookInteraction(c)
	appendTo(t.s.byThread, c.ThreadID, c.ID)
	if c.ContactID != "" {
		appendTo(t.s.byContact, c.ContactID, c.ID)
	}
	t.s.index(nil, c)
	t.undo = append(t.undo, func() {
		t.s.index(c, nil)
		delete(t.s.interactions, c.ID)
		t.s.guard.droppedInteraction(c.ID)
		dropLast(t.s.byThread, c.ThreadID)
		if c.ContactID != "" {
			dropLast(t.s.byContact, c.ContactID)
		}
	})
	return nil
}

// UpdateInteraction implements port.Tx.
func (t *txn) UpdateInteraction(_ context.Context, it *interaction.Interaction) error {
	if err := t.writable(); err != nil {
		return err
	}
	old, ok := t.s.interactions[it.ID]
	if !ok {
		return notFound("interaction", it.ID)
	}
	t.s.guard.checkInteraction(old)
	if old == it {
		return fmt.Errorf("%w: interaction %s written again without reading it again", port.ErrInvalidInput, it.ID)
	}
	if old.Version != it.Version {
		return fmt.Errorf("%w: interaction %s is at version %d, the write was based on %d", port.ErrStaleVersion, it.ID, old.Version, it.Version)
	}
	if old.ThreadID != it.ThreadID {
		return fmt.Errorf("%w: interaction %s cannot change thread", port.ErrInvalidInput, it.ID)
	}
	it.Version++
	c := it // kept as it is: the caller does not change it after the write
	t.s.interactions[c.ID] = c
	snap := t.s.guard.interactionSnapshot(c.ID)
	t.s.guard.tookInteraction(c)
	t.s.index(old, c)
	t.s.moveContact(c.ID, old.ContactID, c.ContactID)
	t.undo = append(t.undo, func() {
		t.s.moveContact(c.ID, c.ContactID, old.ContactID)
		t.s.index(c, old)
		t.s.interactions[old.ID] = old
		it.Version--
		t.s.guard.restoreInteraction(old.ID, snap)
	})
	return nil
}

func appendTo(m map[string][]string, k, id string) { m[k] = append(m[k], id) }

// dropLast undoes the latest appendTo of k.
func dropLast(m map[string][]string, k string) {
	if ids := m[k]; len(ids) <= 1 {
		delete(m, k)
	} else {
		m[k] = ids[:len(ids)-1]
	}
}

// moveContact re-files interaction id from contact from to contact to
// (a sender identified again).
func (s *Store) moveContact(id, from, to string) {
	if from == to {
		return
	}
	if from != "" {
		ids := s.byContact[from]
		if i := slices.Index(ids, id); i >= 0 {
			s.byContact[from] = slices.Delete(slices.Clone(ids), i, i+1)
		}
	}
	if to != "" {
		ids := append(slices.Clone(s.byContact[to]), id)
		slices.SortFunc(ids, func(a, b string) int { return s.interactions[a].CreatedAt.Compare(s.interactions[b].CreatedAt) })
		s.byContact[to] = ids
	}
}

// active returns the agent whose capacity it takes, if any: its owner
// while handling, the agent it is offered to, and, while a transfer is
// pending, the agent who transferred it (it comes back to them unless the
// target accepts).
func active(it *interaction.Interaction) string {
	switch it.State {
	case interaction.StateHandling:
		return it.Owner
	case interaction.StateOffered:
		return it.OfferedTo
	case interaction.StateTransferred:
		return it.TransferFrom
	}
	return ""
}

// index moves an interaction's index entries from old to c (either may be
// nil).
func (s *Store) index(old, c *interaction.Interaction) {
	s.indexWaiting(old, c)
	s.indexDeadlines(old, c)
	// An update that keeps what an index is keyed on leaves that index
	// alone: most updates only add history.
	sameState := old != nil && c != nil && old.State == c.State && old.Owner == c.Owner
	sameOffer := old != nil && c != nil && old.OfferedTo == c.OfferedTo
	sameLoad := old != nil && c != nil && active(old) == active(c)
	if old != nil {
		if !sameState && old.State.Open() {
			s.byState[old.State].remove(old.ID)
			if old.Owner != "" {
				s.byOwner[old.Owner].remove(old.ID)
			}
		}
		if !sameOffer && old.OfferedTo != "" {
			s.byOffered[old.OfferedTo].remove(old.ID)
		}
		if a := active(old); !sameLoad && a != "" {
			s.load[a]--
			defer s.loadChanged(a)
		}
	}
	if c != nil {
		if !sameState && c.State.Open() {
			addTo(s.byState, c.State, c.ID)
			if c.Owner != "" {
				addTo(s.byOwner, c.Owner, c.ID)
			}
		}
		if !sameOffer && c.OfferedTo != "" {
			addTo(s.byOffered, c.OfferedTo, c.ID)
		}
		if a := active(c); !sameLoad && a != "" {
			s.load[a]++
			defer s.loadChanged(a)
		}
	}
}

func addTo[K comparable](m map[K]set, k K, id string) {
	s, ok := m[k]
	if !ok {
		s = set{}
		m[k] = s
	}
	s.add(id)
}

// FindInteractions implements port.Tx.
func (t *txn) FindInteractions(_ context.Context, q port.Query) ([]*interaction.Interaction, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	s := t.s
	allOpen := len(q.States) > 0
	for _, st := range q.States {
		allOpen = allOpen && st.Open()
	}
	var candidates []string
	switch {
	case q.ThreadID != "":
		candidates = s.byThread[q.ThreadID]
	case q.ContactID != "":
		candidates = s.byContact[q.ContactID]
	case q.OfferedTo != "":
		candidates = keys(s.byOffered[q.OfferedTo])
	case q.Owner != "" && allOpen:
		candidates = keys(s.byOwner[q.Owner])
	case allOpen:
		for _, st := range q.States {
			candidates = append(candidates, keys(s.byState[st])...)
		}
	default:
		candidates = make([]string, 0, len(s.interactions))
		for id := range s.interactions {
			candidates = append(candidates, id)
		}
	}
	var out []*interaction.Interaction
	for _, id := range candidates {
		it := s.interactions[id]
		if it != nil && matches(it, &q) {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b *interaction.Interaction) int {
		if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
			return c
		}
		if c := a.QueuedAt.Compare(b.QueuedAt); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	out = out[min(max(q.Offset, 0), len(out)):] // a negative Offset skips nothing
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	for i, it := range out {
		out[i] = s.handOutInteraction(it)
	}
	return out, nil
}

func keys(s set) []string {
	out := make([]string, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	return out
}

func matches(it *interaction.Interaction, q *port.Query) bool {
	if q.Kind != "" && it.Kind != q.Kind ||
		q.Owner != "" && it.Owner != q.Owner ||
		q.OfferedTo != "" && it.OfferedTo != q.OfferedTo ||
		q.Queue != "" && it.Queue != q.Queue ||
		q.Workbin != "" && it.Workbin != q.Workbin ||
		q.ThreadID != "" && it.ThreadID != q.ThreadID ||
		q.ContactID != "" && it.ContactID != q.ContactID {
		return false
	}
	return len(q.States) == 0 || slices.Contains(q.States, it.State)
}

// Load implements port.Tx.
func (t *txn) Load(_ context.Context, agent string) (int, error) {
	if err := t.readable(); err != nil {
		return 0, err
	}
	return t.s.load[agent], nil
}

// Email implements port.Tx.
func (t *txn) Email(_ context.Context, id string) (*port.Email, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	e, ok := t.s.emails[id]
	if !ok {
		return nil, notFound("email", id)
	}
	return t.s.handOutEmail(e), nil
}

// EmailsOf implements port.Tx.
func (t *txn) EmailsOf(_ context.Context, interactionID string) ([]*port.Email, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	ids := t.s.emailsOf[interactionID]
	out := make([]*port.Email, 0, len(ids))
	for _, id := range ids {
		out = append(out, t.s.handOutEmail(t.s.emails[id]))
	}
	return out, nil
}

// EmailByMessageID implements port.Tx.
func (t *txn) EmailByMessageID(_ context.Context, messageID string) (*port.Email, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	id, ok := t.s.byMsgID[messageID]
	if !ok {
		return nil, notFound("email with Message-ID", messageID)
	}
	return t.s.handOutEmail(t.s.emails[id]), nil
}

// EmailsByMessageIDs implements port.Tx.
func (t *txn) EmailsByMessageIDs(_ context.Context, messageIDs []string) ([]*port.Email, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var out []*port.Email
	for i, mid := range messageIDs {
		id, ok := t.s.byMsgID[mid]
		if ok && !slices.Contains(messageIDs[:i], mid) {
			out = append(out, t.s.handOutEmail(t.s.emails[id]))
		}
	}
	return out, nil
}

// PutEmail implements port.Tx.
func (t *txn) PutEmail(_ context.Context, e *port.Email) error {
	if err := t.writable(); err != nil {
		return err
	}
	if e.ID == "" || e.InteractionID == "" {
		return fmt.Errorf("%w: email without id or interaction", port.ErrInvalidInput)
	}
	s := t.s
	old, existed := s.emails[e.ID]
	if existed {
		s.guard.checkEmail(old)
		if old == e {
			return fmt.Errorf("%w: email %s written again without reading it again", port.ErrInvalidInput, e.ID)
		}
	}
	c := e // kept as it is: the caller does not change it after the write
	if existed && old.InteractionID != c.InteractionID {
		return fmt.Errorf("%w: email %s belongs to interaction %s", port.ErrConflict, c.ID, old.InteractionID)
	}
	// The first email stored under a Message-ID keeps it: a re-delivered
	// copy must not steal the thread.
	_, taken := s.byMsgID[c.MessageID]
	setMsg := c.MessageID != "" && !taken
	// A replaced email whose Message-ID changed gives up its old one.
	dropMsg := existed && old.MessageID != "" && old.MessageID != c.MessageID && s.byMsgID[old.MessageID] == c.ID
	s.emails[c.ID] = c
	snap := s.guard.emailSnapshot(c.ID)
	s.guard.tookEmail(c)
	if !existed {
		s.emailsOf[c.InteractionID] = append(s.emailsOf[c.InteractionID], c.ID)
	}
	if setMsg {
		s.byMsgID[c.MessageID] = c.ID
	}
	if dropMsg {
		delete(s.byMsgID, old.MessageID)
	}
	t.undo = append(t.undo, func() {
		if dropMsg {
			s.byMsgID[old.MessageID] = c.ID
		}
		if setMsg {
			delete(s.byMsgID, c.MessageID)
		}
		if existed {
			s.emails[c.ID] = old
			s.guard.restoreEmail(c.ID, snap)
			return
		}
		delete(s.emails, c.ID)
		s.guard.droppedEmail(c.ID)
		ids := s.emailsOf[c.InteractionID]
		if len(ids) <= 1 {
			delete(s.emailsOf, c.InteractionID)
		} else {
			s.emailsOf[c.InteractionID] = ids[:len(ids)-1]
		}
	})
	return nil
}

// ClaimIngest implements port.Tx.
func (t *txn) ClaimIngest(_ context.Context, key, interactionID string) (string, bool, error) {
	if err := t.writable(); err != nil {
		return "", false, err
	}
	if owner, ok := t.s.ingest[key]; ok {
		return owner, false, nil
	}
	t.s.ingest[key] = interactionID
	t.undo = append(t.undo, func() { delete(t.s.ingest, key) })
	return interactionID, true, nil
}

// Enqueue implements port.Tx.
func (t *txn) Enqueue(_ context.Context, o *port.OutboxItem) error {
	if err := t.writable(); err != nil {
		return err
	}
	if _, ok := t.s.outbox[o.ID]; ok {
		return fmt.Errorf("%w: outbox item %q exists", port.ErrConflict, o.ID)
	}
	return t.putOutbox(o, nil)
}

// OutboxItem implements port.Tx.
func (t *txn) OutboxItem(_ context.Context, id string) (*port.OutboxItem, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	o, ok := t.s.outbox[id]
	if !ok {
		return nil, notFound("outbox item", id)
	}
	return o.Clone(), nil
}

// UpdateOutbox implements port.Tx.
func (t *txn) UpdateOutbox(_ context.Context, o *port.OutboxItem) error {
	if err := t.writable(); err != nil {
		return err
	}
	old, ok := t.s.outbox[o.ID]
	if !ok {
		return notFound("outbox item", o.ID)
	}
	return t.putOutbox(o, old)
}

func (t *txn) putOutbox(o, old *port.OutboxItem) error {
	s := t.s
	c := o.Clone()
	s.outbox[c.ID] = c
	wasPending := old != nil && old.State == port.OutboxPending
	if c.State == port.OutboxPending {
		s.pending.add(c.ID)
	} else {
		s.pending.remove(c.ID)
	}
	t.undo = append(t.undo, func() {
		if old == nil {
			delete(s.outbox, c.ID)
			s.pending.remove(c.ID)
			return
		}
		s.outbox[c.ID] = old
		if wasPending {
			s.pending.add(c.ID)
		} else {
			s.pending.remove(c.ID)
		}
	})
	return nil
}

// DueOutbox implements port.Tx.
func (t *txn) DueOutbox(_ context.Context, now time.Time, limit int) ([]*port.OutboxItem, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var out []*port.OutboxItem
	for id := range t.s.pending {
		o := t.s.outbox[id]
		if !o.NextAttempt.After(now) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *port.OutboxItem) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	for i, o := range out {
		out[i] = o.Clone()
	}
	return out, nil
}

// AppendEvent implements port.Tx.
func (t *txn) AppendEvent(_ context.Context, e *port.Event) error {
	if err := t.writable(); err != nil {
		return err
	}
	s := t.s
	s.seq++
	e.Seq = s.seq
	s.events.push(*e)
	t.appended++ // rollback pops them: no other undo touches the log
	return nil
}

// Events implements port.Tx.
func (t *txn) Events(_ context.Context, after int64, limit int) ([]port.Event, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	return t.s.events.after(after, limit), nil
}

// Agent implements port.Tx.
func (t *txn) Agent(_ context.Context, id string) (*port.Agent, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	a, ok := t.s.agents[id]
	if !ok {
		return nil, notFound("agent", id)
	}
	return a.Clone(), nil
}

// PutAgent implements port.Tx.
func (t *txn) PutAgent(_ context.Context, a *port.Agent) error {
	if err := t.writable(); err != nil {
		return err
	}
	if a.ID == "" {
		return fmt.Errorf("%w: agent without id", port.ErrInvalidInput)
	}
	id := a.ID // the undo must not read a: the caller may reuse it
	old, existed := t.s.agents[id]
	c := a.Clone()
	t.s.agents[id] = c
	t.s.indexReady(old, c)
	t.undo = append(t.undo, func() {
		t.s.indexReady(c, old)
		if existed {
			t.s.agents[id] = old
		} else {
			delete(t.s.agents, id)
		}
	})
	return nil
}

// Agents implements port.Tx.
func (t *txn) Agents(_ context.Context, queue string) ([]*port.Agent, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var out []*port.Agent
	for _, a := range t.s.agents {
		if queue == "" || a.Serves(queue) {
			out = append(out, a.Clone())
		}
	}
	slices.SortFunc(out, func(a, b *port.Agent) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

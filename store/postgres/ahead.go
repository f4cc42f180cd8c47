package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/port"
)

// Reads sent ahead. An action that knows what it will read (the
// interaction it acts on, the emails of a draft) says so first; the read
// waits in the pipe and rides with the transaction's next round trip (an
// agent's lock, the first read of a View), and the later Interaction or
// EmailsOf takes its answer instead of asking again. Under READ COMMITTED
// the answer is what a read at that point of the transaction would have
// seen, as any read: the version check of a write still tells a change
// since. A write of what was read ahead drops the answer, so the
// transaction reads its own writes.

// aheadRead is the answer of a read sent ahead, once its batch went.
type aheadRead struct {
	sent    bool
	missing bool // no such row
	// An interaction's row.
	data    []byte
	version int64
	// The emails of an interaction.
	emails []*port.Email
	// The emails some Message-IDs name: the ids asked, and what each
	// found.
	ids     []string
	byMsgID map[string]*port.Email
	// Contacts, as stored (decoded when taken, so that one that cannot be
	// decoded fails the read that takes it, as a read of its own would).
	contacts [][]byte
	// bad is an email that could not be decoded: the error the read
	// taking the answer returns.
	bad error
}

// takeAhead returns the answer kept for key, and forgets it; nil when none
// was asked for. An answer still pending is fetched first.
func (t *txn) takeAhead(ctx context.Context, key string) (*aheadRead, error) {
	r := t.ahead[key]
	if r == nil {
		return nil, nil
	}
	delete(t.ahead, key)
	if !r.sent {
		if err := t.tx.flush(ctx); err != nil {
			return nil, err
		}
		if !r.sent { // cannot happen: the flush read it
			return nil, nil
		}
	}
	return r, nil
}

// takeSent returns the answer kept for key if its batch went, and
// forgets it; nil when none was asked for or none came yet. It sends
// nothing: an answer not come is the caller's to read otherwise.
func (t *txn) takeSent(key string) *aheadRead {
	r := t.ahead[key]
	if r == nil || !r.sent || t.done {
		return nil
	}
	delete(t.ahead, key)
	return r
}

// keepAhead remembers r as the answer coming for key.
func (t *txn) keepAhead(key string, r *aheadRead) bool {
	if t.done || t.ahead[key] != nil {
		return false
	}
	if t.ahead == nil {
		t.ahead = map[string]*aheadRead{}
	}
	t.ahead[key] = r
	return true
}

// forgetAhead drops what was read ahead of key.
func (t *txn) forgetAhead(key string) {
	if t.ahead != nil {
		delete(t.ahead, key)
	}
}

// PrefetchInteraction sends the read of interaction id with the
// transaction's next round trip; Interaction(id) then answers from it.
func (t *txn) PrefetchInteraction(_ context.Context, id string) {
	r := &aheadRead{}
	if !t.keepAhead("i "+id, r) {
		return
	}
	if t.prefetchNumbered(id, r) { // a read-write transaction's
		return
	}
	t.tx.laterRead("read interaction "+id, t.s.sql(`SELECT data, version FROM {s}.interactions WHERE id = $1`), []any{id},
		func(br pgx.BatchResults) error {
			err := br.QueryRow().Scan(&r.data, &r.version)
			if errors.Is(err, pgx.ErrNoRows) {
				r.missing, err = true, nil
			}
			r.sent = err == nil
			return err
		})
}

// PrefetchEmails sends the read of the emails of interaction id with the
// transaction's next round trip; EmailsOf(id) then answers from it.
func (t *txn) PrefetchEmails(_ context.Context, id string) {
	r := &aheadRead{}
	if !t.keepAhead("e "+id, r) {
		return
	}
	t.tx.laterRead("read emails of "+id, t.s.sql(emailsOfSQL), []any{id},
		func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			r.emails, err = scanEmails(rows)
			r.sent = err == nil
			return err
		})
}

// aheadInteraction is Interaction's answer from a read sent ahead, if one
// was (ok).
func (t *txn) aheadInteraction(ctx context.Context, id string) (it *interaction.Interaction, ok bool, err error) {
	r, err := t.takeAhead(ctx, "i "+id)
	if r == nil || err != nil {
		return nil, err != nil, mapErr("interaction", err)
	}
	if t.readOnly {
		// Nothing changes in a View's snapshot: the answer stays good for
		// another read of the interaction (a conversation's emails named
		// twice), each decoded afresh.
		t.ahead["i "+id] = r
	}
	if r.missing {
		return nil, true, notFound("interaction", id)
	}
	if it, err = decodeInteraction(r.data, r.version); err != nil {
		return nil, true, err
	}
	t.noteRead(it)
	return it, true, nil
}

// PrefetchEmailsByMessageIDs sends, in a View, the read of the emails
// ids name with its next round trip; EmailsByMessageIDs(ids), with the
// same ids, then answers from it. In a read-write transaction it does
// nothing: a write of an email could change the answer.
func (t *txn) PrefetchEmailsByMessageIDs(_ context.Context, ids []string) {
	if !t.readOnly || len(ids) == 0 {
		return
	}
	r := &aheadRead{ids: slices.Clone(ids)}
	if !t.keepAhead(messageIDsKey(ids), r) {
		return
	}
	t.tx.laterRead("read emails by Message-ID", t.s.sql(emailsByMessageIDsSQL), []any{r.ids},
		func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			r.byMsgID, r.bad, err = scanByMessageID(rows, len(ids))
			r.sent = err == nil
			return err
		})
}

// PrefetchInteractionsByMessageIDs sends, in a View, the read of the
// interactions holding the emails ids name with its next round trip;
// Interaction of one of them then answers from it, in the View's
// snapshot. In a read-write transaction it does nothing: its answers,
// known only once read, could follow a write of the transaction sent
// before them.
func (t *txn) PrefetchInteractionsByMessageIDs(_ context.Context, ids []string) {
	if !t.readOnly || len(ids) == 0 || !t.keepAhead(messageIDsKey(ids)+" i", &aheadRead{}) {
		return
	}
	t.tx.laterRead("read interactions by Message-ID", t.s.sql(`SELECT i.id, i.data, i.version FROM {s}.message_ids m
		JOIN {s}.emails e ON e.id = m.email_id JOIN {s}.interactions i ON i.id = e.interaction_id
		WHERE m.message_id = ANY($1)`), []any{slices.Clone(ids)},
		func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			var id string
			var data []byte
			var version int64
			_, err = pgx.ForEachRow(rows, []any{&id, &data, &version}, func() error {
				// Each as PrefetchInteraction's answer (the first kept).
				t.keepAhead("i "+id, &aheadRead{sent: true, data: data, version: version})
				return nil
			})
			return err
		})
}

// messageIDsKey is the key of the read of the emails ids name. Message-IDs
// hold no NUL (see compose), so the key tells the ids apart.
func messageIDsKey(ids []string) string {
	return "m " + strings.Join(ids, "\x00")
}

// aheadByMessageIDs is EmailsByMessageIDs' answer from a read sent ahead,
// if one was (ok).
func (t *txn) aheadByMessageIDs(ctx context.Context, ids []string) (found map[string]*port.Email, ok bool, err error) {
	r, err := t.takeAhead(ctx, messageIDsKey(ids))
	if err != nil {
		return nil, true, err
	}
	if r == nil || !slices.Equal(r.ids, ids) {
		return nil, false, nil
	}
	return r.byMsgID, true, r.bad
}

// Directory returns the Directory whose contacts the reads sent ahead
// read: the transaction's Store.
func (t *txn) Directory() port.Directory { return t.s }

// PrefetchContactsByAddress sends the read of the contacts having addr,
// as the Store's ContactsByAddress reads them, with the transaction's
// next round trip; ContactsByAddressRead(addr) then answers from it, in
// the transaction's snapshot.
func (t *txn) PrefetchContactsByAddress(_ context.Context, addr string) {
	n := contact.NormalizeAddress(addr)
	r := &aheadRead{}
	if !t.keepAhead("a "+addr, r) {
		return
	}
	if n == "" {
		r.sent = true // none, as ContactsByAddress answers without asking
		return
	}
	t.tx.laterRead("read contacts of "+n, t.s.sql(contactsByAddressSQL), []any{n}, r.readContacts)
}

// ContactsByAddressRead returns what the read PrefetchContactsByAddress
// sent for addr found, once its batch went (ok): what ContactsByAddress
// answers, at the transaction's snapshot. It sends nothing: ok is false
// when no such read was sent or its batch has not gone yet. An answer is
// taken once.
func (t *txn) ContactsByAddressRead(addr string) ([]contact.Contact, bool, error) {
	r := t.takeSent("a " + addr)
	if r == nil {
		return nil, false, nil
	}
	if len(r.contacts) == 0 {
		return nil, true, nil
	}
	out := make([]contact.Contact, 0, len(r.contacts))
	for _, data := range r.contacts {
		c, err := decodeContact(data)
		if err != nil {
			return nil, true, mapErr("contacts by address", err)
		}
		out = append(out, c)
	}
	return out, true, nil
}

// PrefetchContactOf sends the read of the contact of interaction id (its
// contact_id, in the same snapshot as the interaction) with the
// transaction's next round trip; ContactOfRead(id) then answers from it.
func (t *txn) PrefetchContactOf(_ context.Context, id string) {
	r := &aheadRead{}
	if !t.keepAhead("c "+id, r) {
		return
	}
	t.tx.laterRead("read the contact of "+id, t.s.sql(`SELECT c.data FROM {s}.interactions i
		JOIN {s}.contacts c ON c.id = i.contact_id WHERE i.id = $1`), []any{id}, r.readContacts)
}

// ContactOfRead returns the contact of interaction id as the read
// PrefetchContactOf sent found it, once its batch went (ok): what the
// Store's Contact answers for the interaction's ContactID at the
// transaction's snapshot, an error wrapping ErrNotFound when the
// interaction or its contact is not there (or it has none). It sends
// nothing: ok is false when no such read was sent or its batch has not
// gone yet. An answer is taken once.
func (t *txn) ContactOfRead(id string) (contact.Contact, bool, error) {
	r := t.takeSent("c " + id)
	if r == nil {
		return contact.Contact{}, false, nil
	}
	if len(r.contacts) == 0 {
		return contact.Contact{}, true, notFound("contact of interaction", id)
	}
	c, err := decodeContact(r.contacts[0])
	return c, true, err
}

// readContacts reads the contacts' rows of a read sent ahead.
func (r *aheadRead) readContacts(br pgx.BatchResults) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		r.contacts = append(r.contacts, data)
		return nil
	})
	r.sent = err == nil
	return err
}

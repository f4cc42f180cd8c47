package emailflow

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

// maxThreadRefs bounds the References ids Ingest looks at: the newest,
// where a reply's parent is. A message listing thousands of ids costs
// what one listing twenty does.
const maxThreadRefs = 20

// lookupIDs returns the ids Ingest looks up for a message: its own
// Message-ID, when it has one, then refs, the ids it answers in the order
// they are tried (In-Reply-To first, then References newest first, each
// id once, at most maxThreadRefs of each). refs shares ids' array.
func lookupIDs(m *compose.Message) (ids, refs []string) {
	ids = make([]string, 0, 1+min(len(m.InReplyTo), maxThreadRefs)+min(len(m.References), maxThreadRefs))
	if m.MessageID != "" {
		ids = append(ids, m.MessageID)
	}
	first := len(ids)
	add := func(id string) {
		if !slices.Contains(ids[first:], id) {
			ids = append(ids, id)
		}
	}
	for _, id := range m.InReplyTo[:min(len(m.InReplyTo), maxThreadRefs)] {
		add(id)
	}
	for i := len(m.References) - 1; i >= max(0, len(m.References)-maxThreadRefs); i-- {
		add(m.References[i])
	}
	return ids, ids[first:]
}

// placement is where a message that threads goes, decided from the ids
// it carries before its write transaction.
type placement struct {
	ownCopy   string // the outbound interaction it is a copy of: nothing to take in
	duplicate string // the interaction already holding it (same Message-ID, same content)
	thread    string // the thread it joins; "" starts a conversation
	joined    string // the interaction of the email its reference names, in that thread
	forward   string // the forward an external resource answers with it
	inbound   string // where that answer goes: the inbound the forward was made from
	warnings  []string
}

// candidate is a conversation a reference of the message points to: one
// of our stored emails, or the thread token in one of our Message-IDs.
type candidate struct {
	ref   string
	email *Email // nil for a token alone
	it    *interaction.Interaction
}

// lookup reads, in one read-only transaction and one query of the
// emails its ids name, what the intake decides on: the email holding its
// own Message-ID, the email its delivery report names, the conversations
// its references point to (In-Reply-To, the newest References, our token
// in such an id), and the sender rule that applies to its sender.
func (w *Workspace) lookup(ctx context.Context, in *intake) error {
	ids, refs := lookupIDs(in.msg)
	orig := ""
	if r := in.msg.Report; r != nil && r.OriginalMessageID != "" && r.OriginalMessageID != in.msg.MessageID {
		orig = r.OriginalMessageID
		if !slices.Contains(refs, orig) {
			ids = append(ids, orig)
		}
	}
	sender := in.senderAddress()
	if len(ids) == 0 && sender == "" {
		return nil
	}
	return w.view(ctx, func(t *tx) error {
		// Every read is known from the message: those a store can send
		// ahead ride with the first, the sender rule's: the emails its
		// ids name, the conversations of those its references name. The
		// sender's contacts, for identify, are read in the same snapshot
		// when the Directory is the store (a bounce is no one's: see
		// identify).
		t.aheadMessageIDs(ids, refs)
		cr, ahead := t.contactsAhead()
		if ahead && in.from.Address != "" && in.msg.Auto != compose.AutoBounce {
			cr.PrefetchContactsByAddress(ctx, in.from.Address)
		}
		if err := w.lookupIn(t, in, sender, ids, refs, orig); err != nil {
			return err
		}
		if ahead {
			if found, ok, err := cr.ContactsByAddressRead(in.from.Address); ok {
				in.senders = &contactsRead{found: found, err: err}
			}
		}
		return nil
	})
}

// lookupIn is lookup's reads, in its transaction.
func (w *Workspace) lookupIn(t *tx, in *intake, sender string, ids, refs []string, orig string) error {
	ctx := t.ctx
	var err error
	if sender != "" {
		if in.rule, err = senderRule(t, sender); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		return nil
	}
	found, err := t.EmailsByMessageIDs(ctx, ids)
	if err != nil {
		return err
	}
	for _, e := range found {
		switch e.MessageID {
		case in.msg.MessageID:
			in.same = e
		case orig:
			in.original = e
		}
	}
	for _, ref := range refs {
		c := candidate{ref: ref}
		for _, e := range found {
			if e.MessageID == ref {
				c.email = e
			}
		}
		id := ""
		if c.email != nil {
			id = c.email.InteractionID
		} else if token, ok := w.threadToken(ref); ok {
			id = token
		} else {
			continue
		}
		if c.it, err = t.Interaction(ctx, id); errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		in.cands = append(in.cands, c)
	}
	return nil
}

// thread decides which conversation the message joins, from the
// candidates lookup found. A reference joins its conversation only when
// the sender is a party of it (see isParty): ids can be guessed, and a
// stranger must not slip into another customer's conversation; a
// reference that fails is recorded as a warning. An external resource's
// answer to one of our forwards goes to the inbound the forward was made
// from.
func (w *Workspace) thread(ctx context.Context, in *intake) error {
	p := &in.placement
	sender := contact.NormalizeAddress(in.from.Address)
	parties := map[string]*threadParties{}
	var suspicious []string
	for _, c := range in.cands {
		fwd, inbound, err := w.answeredForward(ctx, c, sender)
		if err != nil {
			return err
		}
		if inbound != "" {
			p.forward, p.inbound, p.thread, p.joined = fwd, inbound, c.it.ThreadID, c.it.ID
			return nil
		}
		ok, err := w.isParty(ctx, sender, c, parties)
		if err != nil {
			return err
		}
		if ok {
			p.thread, p.joined = c.it.ThreadID, c.it.ID
			return nil
		}
		suspicious = append(suspicious, c.ref)
	}
	for i, ref := range suspicious {
		if i == 3 {
			p.warnings = append(p.warnings, fmt.Sprintf("and %d more such references", len(suspicious)-i))
			break
		}
		p.warnings = append(p.warnings, fmt.Sprintf("refers to <%s>, of a conversation %s is no party of: started a new conversation instead of joining it", ref, displayAddress(in.from)))
	}
	return nil
}

// sameMessage compares the message with e, the email already holding its
// Message-ID, and reports whether that settles where it goes: a copy of
// our own email, or a message taken in before. The same Message-ID with
// other content is another message, taken in with a warning.
func (w *Workspace) sameMessage(p *placement, in *intake, e *Email) bool {
	same := compose.ContentHash(e.Raw) == in.hash
	switch {
	case same && e.Direction == Outbound:
		p.ownCopy = e.InteractionID
		return true
	case same && (in.scope == "" || e.Mailbox == in.scope):
		p.duplicate = e.InteractionID
		return true
	case same:
		return false // the same message at another mailbox, recipients split
	case e.Direction == Outbound:
		p.warnings = append(p.warnings, fmt.Sprintf("carries the Message-ID <%s> of one of our emails with other content: taken in as new mail", in.msg.MessageID))
	default:
		p.warnings = append(p.warnings, fmt.Sprintf("carries the Message-ID <%s> of an earlier message with other content: taken in as a new message", in.msg.MessageID))
	}
	return false
}

// answeredForward reports whether the candidate makes the message an
// external resource's answer: a reply to one of our forwards from one of
// its recipients, or to such an answer from its author. It returns the
// forward and the inbound the answer goes to ("" when it is no answer).
func (w *Workspace) answeredForward(ctx context.Context, c candidate, sender string) (string, string, error) {
	if c.email == nil || sender == "" {
		return "", "", nil
	}
	var fwd string
	switch {
	case c.it.Kind == interaction.KindOutbound && c.it.Purpose == interaction.PurposeForward && addressedTo(c.email, sender):
		fwd = c.it.ID
	case c.email.ForwardID != "" && contact.NormalizeAddress(c.email.From.Address) == sender:
		fwd = c.email.ForwardID
	default:
		return "", "", nil
	}
	// The forward's nearest inbound ancestor: its parent, or the parent
	// of the outbound it forwarded (forwarded from history).
	var inbound string
	err := w.view(ctx, func(t *tx) error {
		id := fwd
		for range 3 {
			it, err := t.Interaction(ctx, id)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if it.Kind == interaction.KindInbound {
				inbound = it.ID
				return nil
			}
			if id = it.ParentID; id == "" {
				return nil
			}
		}
		return nil
	})
	return fwd, inbound, err
}

// threadParties are the people of one conversation: every address that
// was the sender or a recipient of one of its emails, and its contacts.
type threadParties struct {
	addrs    map[string]bool
	contacts []string
}

// isParty reports whether sender is a party of the candidate's
// conversation: an address of the email referred to, of another email of
// the conversation (the customer, a Cc'd party, a resource we forwarded
// it to), or of the contact of one of its interactions. The cheap checks
// come first; the conversation is read only when they fail.
func (w *Workspace) isParty(ctx context.Context, sender string, c candidate, cache map[string]*threadParties) (bool, error) {
	if sender == "" {
		return false, nil
	}
	if c.email != nil && (addressedTo(c.email, sender) || contact.NormalizeAddress(c.email.From.Address) == sender) {
		return true, nil
	}
	tp, ok := cache[c.it.ThreadID]
	if !ok {
		var err error
		if tp, err = w.readParties(ctx, c.it.ThreadID); err != nil {
			return false, err
		}
		cache[c.it.ThreadID] = tp
	}
	if tp.addrs[sender] {
		return true, nil
	}
	for _, id := range tp.contacts {
		ct, err := w.dir.Contact(ctx, id)
		if err == nil && ct.HasEmail(sender) {
			return true, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			// The addresses of the conversation decided; the Directory
			// only adds a contact's other addresses.
			w.log.Warn("emailflow: contact not read for a threading check", "contact", id, "err", err)
		}
	}
	return false, nil
}

// readParties reads the parties of a thread.
func (w *Workspace) readParties(ctx context.Context, thread string) (*threadParties, error) {
	tp := &threadParties{addrs: map[string]bool{}}
	err := w.view(ctx, func(t *tx) error {
		its, err := t.FindInteractions(ctx, Query{ThreadID: thread})
		if err != nil {
			return err
		}
		for _, it := range its {
			if it.ContactID != "" && !slices.Contains(tp.contacts, it.ContactID) {
				tp.contacts = append(tp.contacts, it.ContactID)
			}
			emails, err := t.EmailsOf(ctx, it.ID)
			if err != nil {
				return err
			}
			for _, e := range emails {
				tp.addrs[contact.NormalizeAddress(e.From.Address)] = true
				for _, l := range [][]mail.Address{e.To, e.Cc, e.Bcc} {
					for _, a := range l {
						tp.addrs[contact.NormalizeAddress(a.Address)] = true
					}
				}
			}
		}
		return nil
	})
	delete(tp.addrs, "")
	return tp, err
}

// idEncoding writes the random part of our Message-IDs: lower case, so
// that systems folding case do not change them.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// messageID returns a new Message-ID for an email of thread: 96 bits from
// crypto/rand, so that no one can guess one of ours, and the thread id as
// a token, so that a reply threads even when its client dropped our
// message from References or the message is no longer stored (the token
// alone is trusted only from a party of the thread: see place). A thread
// id that would not make a valid id is left out.
func (w *Workspace) messageID(thread string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails: see crypto/rand.Read
	random := idEncoding.EncodeToString(b[:])
	if thread == "" || !dotAtom(thread) {
		return "ef." + random + "@" + w.opts.Hostname
	}
	return "ef." + thread + "." + random + "@" + w.opts.Hostname
}

// threadToken returns the thread id in one of our Message-IDs.
func (w *Workspace) threadToken(id string) (string, bool) {
	local, ok := strings.CutSuffix(id, "@"+w.opts.Hostname)
	if !ok {
		return "", false
	}
	rest, ok := strings.CutPrefix(local, "ef.")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

// dotAtom reports whether s may stand in the local part of a Message-ID
// (RFC 5322 dot-atom text).
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0) {
			return false
		}
	}
	return true
}

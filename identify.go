package emailflow

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
)

// identify finds the contact of the sender of mail that starts an
// interaction, and creates one when unknown as Options.ContactRules
// allow: the intake's identify step. Bounces get none (no customer is a
// mailer daemon), nor does mail that joins an existing interaction.
func (w *Workspace) identify(ctx context.Context, in *intake) {
	if (in.dest != toInbox && in.dest != toQuarantine) || in.msg.Auto == compose.AutoBounce {
		return
	}
	create := w.mayCreateContact(in.from.Address, in.msg.Auto, in.dest == toQuarantine)
	var warnings []string
	in.who, warnings = w.findContact(ctx, in.from, create, in.senders)
	in.warnings = append(in.warnings, warnings...)
}

// contactsRead is the answer of a read of the contacts having an
// address, made earlier in the intake (see lookup).
type contactsRead struct {
	found []contact.Contact
	err   error
}

// findContact returns the contact of the sender, found in the Directory
// (read is the Directory's answer when it was read already) or, when
// create, created when unknown, and warnings for the email. It
// never costs the mail: a name the contact rules refuse is cleaned
// (control characters out, cut to contact.MaxNameRunes) or left out; an
// address they refuse (over 254 bytes, a quoted local part) gives no
// contact, and neither does a Directory error; each adds a warning. When
// several contacts share the address, Options.ChooseContact decides (the
// most recently updated by default); a chooser that refuses leaves the
// email without a contact.
func (w *Workspace) findContact(ctx context.Context, from mail.Address, create bool, read *contactsRead) (contact.Contact, []string) {
	if from.Address == "" {
		return contact.Contact{}, nil
	}
	var found []contact.Contact
	var err error
	if read != nil {
		found, err = read.found, read.err
	} else {
		found, err = w.dir.ContactsByAddress(ctx, from.Address)
	}
	if err != nil {
		return contact.Contact{}, []string{fmt.Sprintf("sender %s not identified: %v", from.Address, err)}
	}
	if len(found) == 0 {
		if !create {
			return contact.Contact{}, nil
		}
		c, warnings := w.senderContact(from)
		if c.ID == "" {
			return contact.Contact{}, warnings
		}
		if found, err = w.ensureContact(ctx, c); err != nil {
			return contact.Contact{}, append(warnings, fmt.Sprintf("sender %s: no contact created: %v", from.Address, err))
		}
		if len(found) == 1 {
			return found[0], warnings
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	choose := w.opts.ChooseContact
	if choose == nil {
		choose = contact.MostRecent
	}
	c, err := choose(from.Address, found)
	if err != nil {
		w.log.Info("emailflow: sender left unidentified", "address", from.Address, "err", err)
		return contact.Contact{}, nil
	}
	return c, nil
}

// senderContact returns the contact to create for a new sender, as clean
// as the contact rules want it, and warnings for what was changed; the
// zero Contact when the address cannot be a contact's.
func (w *Workspace) senderContact(from mail.Address) (contact.Contact, []string) {
	if err := (contact.Contact{Emails: []string{from.Address}}).Validate(); err != nil {
		return contact.Contact{}, []string{fmt.Sprintf("sender address %q cannot be a contact's, no contact created: %v", from.Address, err)}
	}
	var warnings []string
	cleaned := strings.ContainsFunc(from.Name, func(r rune) bool { return unicode.IsControl(r) && r != '\t' })
	name := strings.Join(strings.FieldsFunc(from.Name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	first, last := splitName(name)
	if utf8.RuneCountInString(first) > contact.MaxNameRunes || utf8.RuneCountInString(last) > contact.MaxNameRunes {
		first, last = cutRunes(first, contact.MaxNameRunes), cutRunes(last, contact.MaxNameRunes)
		cleaned = true
	}
	if cleaned {
		warnings = append(warnings, fmt.Sprintf("sender name %q cleaned for the new contact", cutRunes(from.Name, 80)))
	}
	now := w.clock.Now()
	c := contact.Contact{ID: w.ids.NewID(), FirstName: first, LastName: last, Emails: []string{from.Address}, CreatedAt: now, UpdatedAt: now}
	if err := c.Validate(); err != nil {
		// Nothing else can be wrong with it than the name.
		c.FirstName, c.LastName = "", ""
		warnings = append(warnings, fmt.Sprintf("sender name %q left out of the new contact: %v", cutRunes(from.Name, 80), err))
	}
	return c, warnings
}

// ensureContact creates c unless a contact has its address meanwhile, and
// returns the address's contacts: at once when the Directory can
// (ContactEnsurer), otherwise one creation per address at a time in this
// process.
func (w *Workspace) ensureContact(ctx context.Context, c contact.Contact) ([]contact.Contact, error) {
	if e, ok := w.dir.(ContactEnsurer); ok {
		return e.EnsureContact(ctx, c)
	}
	unlock := w.creating.lock(contact.NormalizeAddress(c.Emails[0]))
	defer unlock()
	found, err := w.dir.ContactsByAddress(ctx, c.Emails[0])
	if err != nil || len(found) > 0 {
		return found, err
	}
	if err := w.dir.CreateContact(ctx, c); err != nil {
		return nil, err
	}
	return []contact.Contact{c}, nil
}

// keyedMutex is a mutex per key, held only while in use.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int
}

// lock locks key and returns its unlock.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// cutRunes returns s cut to at most n characters.
func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// splitName splits a display name at its last space: first names, then
// the last name.
func splitName(name string) (first, last string) {
	name = strings.TrimSpace(name)
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		return strings.TrimSpace(name[:i]), name[i+1:]
	}
	return name, ""
}

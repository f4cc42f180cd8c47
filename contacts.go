package emailflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/interaction"
)

// PutContact creates the contact (when c.ID is empty, or unknown) or
// replaces it, after contact.Validate. It returns the stored contact.
// Errors: ErrInvalidInput (with the refused fields); the Directory's.
func (w *Workspace) PutContact(ctx context.Context, c contact.Contact) (contact.Contact, error) {
	now := w.clock.Now()
	if err := c.Validate(); err != nil {
		return contact.Contact{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	c.UpdatedAt = now
	if c.ID != "" {
		old, err := w.dir.Contact(ctx, c.ID)
		switch {
		case err == nil:
			c.CreatedAt = old.CreatedAt
			return c, w.dir.UpdateContact(ctx, c)
		case !errors.Is(err, ErrNotFound):
			return contact.Contact{}, err
		}
	} else {
		c.ID = w.ids.NewID()
	}
	c.CreatedAt = now
	return c, w.dir.CreateContact(ctx, c)
}

// Contact returns the contact with id. Errors: ErrNotFound.
func (w *Workspace) Contact(ctx context.Context, id string) (contact.Contact, error) {
	return w.dir.Contact(ctx, id)
}

// SearchContacts finds contacts by name, email address or phone number,
// case- and accent-insensitively, a page at a time.
func (w *Workspace) SearchContacts(ctx context.Context, query string, page contact.Page) (contact.Result, error) {
	return w.dir.SearchContacts(ctx, query, page)
}

// SearchTeam finds agents of the team directory whose id, name or address
// contains every word of query, case- and accent-insensitively, ordered by
// name then id; it returns the page and how many match in all.
func (w *Workspace) SearchTeam(ctx context.Context, query string, page contact.Page) ([]*Agent, int, error) {
	words := strings.Fields(contact.Fold(query))
	var all []*Agent
	err := w.view(ctx, func(t *tx) error {
		agents, err := t.Agents(ctx, "")
		for _, a := range agents {
			hay := contact.Fold(a.ID + " " + a.Name + " " + a.Address)
			ok := true
			for _, wd := range words {
				ok = ok && strings.Contains(hay, wd)
			}
			if ok {
				all = append(all, a)
			}
		}
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(all, func(a, b *Agent) int {
		if c := cmp.Compare(contact.Fold(a.Name), contact.Fold(b.Name)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	total := len(all)
	off, lim := pageBounds(page, total)
	return all[off:lim], total, nil
}

func pageBounds(p contact.Page, n int) (int, int) {
	off := min(max(p.Offset, 0), n)
	lim := p.Limit
	if lim <= 0 {
		lim = 20
	}
	return off, min(off+lim, n)
}

// HistoryItem is one line of a contact's history.
type HistoryItem struct {
	InteractionID string
	Kind          interaction.Kind
	Purpose       interaction.Purpose
	State         interaction.State
	Subject       string
	Agent         string // who handles it, or last handled it
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ContactHistory returns a page of contact id's interactions, newest first,
// and how many there are: those the actor may see (past interactions, with
// the history privilege, and their own; see Interaction). Reading it needs
// the history privilege. Errors: ErrForbidden.
func (ac *Actor) ContactHistory(ctx context.Context, contactID string, page contact.Page) ([]HistoryItem, int, error) {
	w, agentID := ac.w, ac.id
	var items []HistoryItem
	err := w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, PrivilegeHistory)
		if err != nil {
			return err
		}
		found, err := t.FindInteractions(ctx, Query{ContactID: contactID})
		if err != nil {
			return err
		}
		if found, err = w.visibleOnly(t, a, found); err != nil {
			return err
		}
		for _, it := range found {
			if it.Kind == interaction.KindConsult || it.Kind == interaction.KindReview || it.State == interaction.StateDeleted {
				continue
			}
			agent := it.Owner
			if agent == "" {
				agent = it.LastAgent
			}
			items = append(items, HistoryItem{
				InteractionID: it.ID, Kind: it.Kind, Purpose: it.Purpose, State: it.State, Subject: it.Subject,
				Agent: agent, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
			})
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	slices.SortFunc(items, func(a, b HistoryItem) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.InteractionID, a.InteractionID)
	})
	off, lim := pageBounds(page, len(items))
	return items[off:lim], len(items), nil
}

// OpenInteraction returns an interaction and its emails for reading, as
// from a contact's history, under the rule of Interaction and Emails (a
// past interaction needs the history privilege; a draft, a consultation or
// a review is seen only by their parties). Errors: ErrNotFound;
// ErrForbidden.
func (ac *Actor) OpenInteraction(ctx context.Context, id string) (*interaction.Interaction, []*Email, error) {
	w, agentID := ac.w, ac.id
	var it *interaction.Interaction
	var emails []*Email
	err := w.read(ctx, agentID, id, func(t *tx, seen *interaction.Interaction) error {
		it = seen
		var err error
		emails, err = t.EmailsOf(ctx, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return it, handOutEmails(emails), nil
}

package memory

import (
	"context"
	"fmt"

	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/port"
)

// Contact implements port.Directory.
func (s *Store) Contact(_ context.Context, id string) (contact.Contact, error) {
	c, ok := s.contacts.Get(id)
	if !ok {
		return contact.Contact{}, notFound("contact", id)
	}
	return c, nil
}

// ContactsByAddress implements port.Directory: newest first.
func (s *Store) ContactsByAddress(_ context.Context, addr string) ([]contact.Contact, error) {
	return s.contacts.ByAddress(addr), nil
}

// CreateContact implements port.Directory.
func (s *Store) CreateContact(_ context.Context, c contact.Contact) error {
	if c.ID == "" {
		return fmt.Errorf("%w: contact without id", port.ErrInvalidInput)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: %w", port.ErrInvalidInput, err)
	}
	if !s.contacts.Insert(c) {
		return fmt.Errorf("%w: contact %q exists", port.ErrConflict, c.ID)
	}
	return nil
}

// EnsureContact implements port.ContactEnsurer: one contact per
// address however many callers race to create it.
func (s *Store) EnsureContact(ctx context.Context, c contact.Contact) ([]contact.Contact, error) {
	if len(c.Emails) == 0 {
		return nil, fmt.Errorf("%w: contact %q has no address to ensure", port.ErrInvalidInput, c.ID)
	}
	s.ensuring.Lock()
	defer s.ensuring.Unlock()
	if found := s.contacts.ByAddress(c.Emails[0]); len(found) > 0 {
		return found, nil
	}
	if err := s.CreateContact(ctx, c); err != nil {
		return nil, err
	}
	return []contact.Contact{c.Clone()}, nil
}

// UpdateContact implements port.Directory.
func (s *Store) UpdateContact(_ context.Context, c contact.Contact) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: %w", port.ErrInvalidInput, err)
	}
	if _, ok := s.contacts.Get(c.ID); !ok {
		return notFound("contact", c.ID)
	}
	s.contacts.Put(c)
	return nil
}

// SearchContacts implements port.Directory.
func (s *Store) SearchContacts(_ context.Context, query string, page contact.Page) (contact.Result, error) {
	return s.contacts.Search(query, page), nil
}

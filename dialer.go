package emailflow

import (
	"context"
	"errors"
	"fmt"
)

// Errors of calling a contact.
var (
	// ErrNoTelephony reports a Workspace without a Dialer.
	ErrNoTelephony = errors.New("no telephony: the Workspace has no Dialer")
	// ErrNoPhoneNumber reports a contact without a phone number to call.
	ErrNoPhoneNumber = errors.New("no phone number to call")
)

// CanCall tells whether the site has telephony and contact id a number, so
// a user interface can show a "Call" button. Errors: ErrNotFound.
func (w *Workspace) CanCall(ctx context.Context, contactID string) (bool, error) {
	c, err := w.dir.Contact(ctx, contactID)
	if err != nil {
		return false, err
	}
	return w.dialer != nil && c.PrimaryPhone() != "", nil
}

// Call asks the Dialer to call the contact of interaction id (at number,
// or their primary number when number is empty), on behalf of an agent
// handling it, and records the call in the interaction's history. It
// returns the call's id. Errors: ErrNoTelephony; ErrNoPhoneNumber;
// ErrNotFound; ErrForbidden (not the owner, or no call privilege); the
// Dialer's error.
func (w *Workspace) Call(ctx context.Context, agentID, id, number string) (string, error) {
	if w.dialer == nil {
		return "", ErrNoTelephony
	}
	var it0 string
	err := w.view(ctx, func(t *tx) error {
		it, err := w.actingOwner(t, agentID, PrivilegeCall, id)
		if err != nil {
			return err
		}
		it0 = it.ContactID
		return nil
	})
	if err != nil {
		return "", err
	}
	if number == "" {
		if it0 == "" {
			return "", fmt.Errorf("%w: interaction %s has no contact", ErrNoPhoneNumber, id)
		}
		c, err := w.dir.Contact(ctx, it0)
		if err != nil {
			return "", err
		}
		if number = c.PrimaryPhone(); number == "" {
			return "", fmt.Errorf("%w: contact %s has none", ErrNoPhoneNumber, c.ID)
		}
	}
	if err := checkHeaderText("number", number); err != nil {
		return "", err
	}
	callID, err := w.dialer.Dial(ctx, agentID, number, id)
	if err != nil {
		return "", fmt.Errorf("dialing %s: %w", number, err)
	}
	err = w.update(ctx, func(t *tx) error {
		it, err := t.Interaction(ctx, id)
		if err != nil {
			return err
		}
		it.Record(agentID, "call", t.now, number+" "+callID)
		if err := t.UpdateInteraction(ctx, it); err != nil {
			return err
		}
		return t.emit(EventCall, it, agentID, agentID, callID)
	})
	return callID, err
}

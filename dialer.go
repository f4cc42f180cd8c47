package emailflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/emailflow/emailflow/contact"
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
// returns the call's id. number must be one of the contact's own numbers
// (compared by their digits) unless the agent has PrivilegeDialAny: an
// email's handler calls its customer, not anyone. Errors: ErrNoTelephony;
// ErrNoPhoneNumber; ErrNotFound; ErrForbidden (not the owner, no call
// privilege, or a number the contact does not have); the Dialer's error.
func (ac *Actor) Call(ctx context.Context, id, number string) (string, error) {
	w, agentID := ac.w, ac.id
	if w.dialer == nil {
		return "", ErrNoTelephony
	}
	var contactID string
	var anyNumber bool
	err := w.view(ctx, func(t *tx) error {
		a, err := w.agent(t, agentID, PrivilegeCall)
		if err != nil {
			return err
		}
		it, err := owned(t, agentID, id)
		if err != nil {
			return err
		}
		contactID, anyNumber = it.ContactID, w.may(a, PrivilegeDialAny)
		return nil
	})
	if err != nil {
		return "", err
	}
	if number == "" || !anyNumber {
		if contactID == "" {
			if number == "" {
				return "", fmt.Errorf("%w: interaction %s has no contact", ErrNoPhoneNumber, id)
			}
			return "", fmt.Errorf("%w: interaction %s has no contact whose number %q could be", ErrForbidden, id, number)
		}
		c, err := w.dir.Contact(ctx, contactID)
		if err != nil {
			return "", err
		}
		switch {
		case number == "":
			if number = c.PrimaryPhone(); number == "" {
				return "", fmt.Errorf("%w: contact %s has none", ErrNoPhoneNumber, c.ID)
			}
		case !hasPhone(c, number):
			return "", fmt.Errorf("%w: %q is not a number of contact %s, and agent %s lacks the %q privilege", ErrForbidden, number, c.ID, agentID, PrivilegeDialAny)
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

// hasPhone reports whether number is one of c's numbers, compared by their
// digits ("+33 6 12 34 56 78" is "+33612345678").
func hasPhone(c contact.Contact, number string) bool {
	d := contact.Digits(number)
	if d == "" {
		return false
	}
	for _, p := range c.Phones {
		if contact.Digits(p) == d {
			return true
		}
	}
	return false
}

package emailflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/emailflow/emailflow/contact"
)

// senderListTx returns the Tx's sender list ability, or an error
// wrapping errors.ErrUnsupported.
func senderListTx(t *tx) (SenderListTx, error) {
	l, ok := t.Tx.(SenderListTx)
	if !ok {
		return nil, fmt.Errorf("emailflow: the store keeps no sender lists (its Tx is no SenderListTx): %w", errors.ErrUnsupported)
	}
	return l, nil
}

// valid reports whether a is one of the actions.
func validListAction(a ListAction) bool {
	return a == ListAllow || a == ListQuarantine || a == ListReject
}

// normalizePattern returns a sender rule pattern in its stored form, or
// an error wrapping ErrInvalidInput: an address with one @, or a domain
// of letters, digits, dots and hyphens.
func normalizePattern(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" || len(p) > 254 || strings.ContainsFunc(p, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == ','
	}) {
		return "", fmt.Errorf("%w: sender pattern %q is no address or domain", ErrInvalidInput, p)
	}
	local, domain, isAddr := strings.Cut(p, "@")
	if !isAddr {
		domain = p
	}
	domain = strings.TrimSuffix(domain, ".")
	if strings.Contains(domain, "@") || !hostName(domain) || (isAddr && local == "") {
		return "", fmt.Errorf("%w: sender pattern %q is no address or domain", ErrInvalidInput, p)
	}
	if isAddr {
		return contact.NormalizeAddress(local + "@" + domain), nil
	}
	return strings.ToLower(domain), nil
}

// hostName reports whether s is a domain name: labels of letters, digits
// and hyphens (or any non-ASCII letter, for internationalized names),
// separated by dots.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || unicode.IsLetter(r)) {
				return false
			}
		}
	}
	return true
}

// senderPatterns returns the patterns that may match addr, most specific
// first: the address, its domain, then each parent domain ("a@x.b.c",
// "x.b.c", "b.c", "c"). Nil for an address without a domain.
func senderPatterns(addr string) []string {
	addr = contact.NormalizeAddress(addr)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return nil
	}
	domain := addr[at+1:]
	out := make([]string, 0, 2+strings.Count(domain, "."))
	out = append(out, addr)
	for {
		out = append(out, domain)
		i := strings.IndexByte(domain, '.')
		if i < 0 || len(out) == 8 {
			return out
		}
		domain = domain[i+1:]
	}
}

// senderRule returns the rule that applies to mail from addr: the most
// specific of those stored (nil when none).
func senderRule(t *tx, addr string) (*SenderRule, error) {
	l, ok := t.Tx.(SenderListTx)
	patterns := senderPatterns(addr)
	if !ok || len(patterns) == 0 {
		return nil, nil
	}
	found, err := l.SenderRules(t.ctx, patterns)
	if err != nil {
		return nil, err
	}
	for _, p := range patterns {
		for i := range found {
			if found[i].Pattern == p {
				return &found[i], nil
			}
		}
	}
	return nil, nil
}

// PutSenderRule adds or replaces, as the actor, the sender rule for
// r.Pattern (an address or a domain; see SenderRule). It needs
// PrivilegeFilter. It applies to mail taken in from then on, by every
// Workspace on the Store. Errors: ErrForbidden; ErrInvalidInput (a
// pattern that is no address or domain, an unknown action); ErrTooLarge
// (a note over Limits.NoteBytes); one wrapping errors.ErrUnsupported when
// the Store keeps no sender lists (see SenderListTx).
func (ac *Actor) PutSenderRule(ctx context.Context, r SenderRule) (SenderRule, error) {
	w, agentID := ac.w, ac.id
	p, err := normalizePattern(r.Pattern)
	if err != nil {
		return SenderRule{}, err
	}
	if !validListAction(r.Action) {
		return SenderRule{}, fmt.Errorf("%w: sender rule action %q is none of allow, quarantine, reject", ErrInvalidInput, r.Action)
	}
	if err := w.checkNote("sender rule note", r.Note); err != nil {
		return SenderRule{}, err
	}
	r.Pattern = p
	err = w.update(ctx, func(t *tx) error {
		if _, err := w.agent(t, agentID, PrivilegeFilter); err != nil {
			return err
		}
		l, err := senderListTx(t)
		if err != nil {
			return err
		}
		r.By, r.At = agentID, t.now
		return l.PutSenderRule(ctx, r)
	})
	if err != nil {
		return SenderRule{}, err
	}
	return r, nil
}

// DeleteSenderRule removes, as the actor, the sender rule for pattern. It
// needs PrivilegeFilter. Errors: ErrForbidden; ErrInvalidInput (no
// address or domain); ErrNotFound (no rule for it); one wrapping
// errors.ErrUnsupported when the Store keeps no sender lists.
func (ac *Actor) DeleteSenderRule(ctx context.Context, pattern string) error {
	w, agentID := ac.w, ac.id
	p, err := normalizePattern(pattern)
	if err != nil {
		return err
	}
	return w.update(ctx, func(t *tx) error {
		if _, err := w.agent(t, agentID, PrivilegeFilter); err != nil {
			return err
		}
		l, err := senderListTx(t)
		if err != nil {
			return err
		}
		return l.DeleteSenderRule(ctx, p)
	})
}

// SenderRules returns, for the actor, a page of the sender rules ordered by
// pattern (a limit of 0 means all of them). It needs PrivilegeFilter.
// Errors: ErrForbidden; one wrapping errors.ErrUnsupported when the Store
// keeps no sender lists.
func (ac *Actor) SenderRules(ctx context.Context, offset, limit int) ([]SenderRule, error) {
	w, agentID := ac.w, ac.id
	var out []SenderRule
	err := w.view(ctx, func(t *tx) error {
		if _, err := w.agent(t, agentID, PrivilegeFilter); err != nil {
			return err
		}
		l, err := senderListTx(t)
		if err != nil {
			return err
		}
		out, err = l.ListSenderRules(ctx, max(offset, 0), max(limit, 0))
		return err
	})
	return out, err
}

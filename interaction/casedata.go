package interaction

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Field is one case data entry.
type Field struct {
	Key      string
	Value    string
	ReadOnly bool
}

// CaseData is an interaction's case data: ordered keys, each read-only or
// editable. The order is the one a user interface shows.
type CaseData []Field

// Get returns the value of key and whether it is present.
func (c CaseData) Get(key string) (string, bool) {
	for _, f := range c {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Field returns the field of key and whether it is present.
func (c CaseData) Field(key string) (Field, bool) {
	for _, f := range c {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// Put sets key without any permission check: the system uses it to fill
// case data (at ingest, from QA). A new key is appended at the end.
func (c *CaseData) Put(key, value string, readOnly bool) {
	for i := range *c {
		if (*c)[i].Key == key {
			(*c)[i].Value = value
			(*c)[i].ReadOnly = readOnly
			return
		}
	}
	*c = append(*c, Field{Key: key, Value: value, ReadOnly: readOnly})
}

// SetCaseData edits key on behalf of actor. A read-only key is refused with
// ErrForbidden; an empty key or one with control characters with
// ErrInvalidInput. An unknown key is added, editable.
func (it *Interaction) SetCaseData(actor, key, value string, at time.Time) error {
	if strings.TrimSpace(key) == "" {
		return fmt.Errorf("%w: case data key is empty", ErrInvalidInput)
	}
	if strings.IndexFunc(key, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: case data key %q has control characters", ErrInvalidInput, key)
	}
	if f, ok := it.CaseData.Field(key); ok && f.ReadOnly {
		return fmt.Errorf("%w: case data key %q is read-only", ErrForbidden, key)
	}
	// Copy before writing: the slice may be shared with a stored value.
	it.CaseData = append(CaseData(nil), it.CaseData...)
	it.CaseData.Put(key, value, false)
	it.Record(actor, "case-data", at, key+"="+value)
	return nil
}

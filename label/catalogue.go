package label

import (
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emailflow/emailflow/interaction"
)

// Category names a family of keys.
type Category string

// The categories of labels.
const (
	// States are the interaction states (interaction.State values).
	States Category = "state"
	// Events are the Workspace's event types ("accepted", "rejected",
	// ...), by string value.
	Events Category = "event"
	// Privileges are the agent privileges ("handle", "review", ...), by
	// string value.
	Privileges Category = "privilege"
	// Decisions are the outcomes of a review round (interaction.Decision,
	// re-exported by package qa).
	Decisions Category = "decision"
	// Reasons are the reason codes of a review rejection
	// (qa.DefaultRejectReasons).
	Reasons Category = "reason"
)

// Categories lists every category, in a fixed order.
func Categories() []Category { return []Category{States, Events, Privileges, Decisions, Reasons} }

// String returns the category's name.
func (c Category) String() string { return string(c) }

// Catalogue holds the labels of one language. The zero value (and a nil
// *Catalogue) is an empty catalogue: every key shows as itself made
// readable. Set it up, then share it: reads are safe for concurrent use,
// changes during reads are not.
type Catalogue struct {
	// Language is a BCP 47 tag, e.g. "fr".
	Language string `json:"language"`
	// Labels maps a category, then a key, to its label.
	Labels map[Category]map[string]string `json:"labels"`
	// Fallback answers for keys that Labels lacks; nil means none.
	Fallback *Catalogue `json:"-"`
}

// Lookup returns the label of key in category c from the catalogue or its
// fallbacks, and whether one has it.
func (cat *Catalogue) Lookup(c Category, key string) (string, bool) {
	for seen := 0; cat != nil && seen < 32; cat, seen = cat.Fallback, seen+1 {
		if l, ok := cat.Labels[c][key]; ok && l != "" {
			return l, true
		}
	}
	return "", false
}

// Label returns the label of key in category c, or key made readable (its
// dashes and underscores become spaces, its first letter upper case) when
// no catalogue has one.
func (cat *Catalogue) Label(c Category, key string) string {
	if l, ok := cat.Lookup(c, key); ok {
		return l
	}
	return Readable(key)
}

// State returns the label of an interaction state.
func (cat *Catalogue) State(s interaction.State) string { return cat.Label(States, string(s)) }

// Event returns the label of an event type, given by its string value.
func (cat *Catalogue) Event(eventType string) string { return cat.Label(Events, eventType) }

// Privilege returns the label of a privilege, given by its string value.
func (cat *Catalogue) Privilege(p string) string { return cat.Label(Privileges, p) }

// Decision returns the label of a review round's outcome.
func (cat *Catalogue) Decision(d interaction.Decision) string {
	return cat.Label(Decisions, string(d))
}

// Reason returns the label of a reject reason code.
func (cat *Catalogue) Reason(code string) string { return cat.Label(Reasons, code) }

// Set gives key in category c the label l, replacing the one it had; an
// empty l removes the key (its fallback or readable form shows again).
func (cat *Catalogue) Set(c Category, key, l string) {
	if l == "" {
		delete(cat.Labels[c], key)
		return
	}
	if cat.Labels == nil {
		cat.Labels = map[Category]map[string]string{}
	}
	if cat.Labels[c] == nil {
		cat.Labels[c] = map[string]string{}
	}
	cat.Labels[c][key] = l
}

// Clone returns a copy of the catalogue that can be changed without
// changing cat; the fallback is shared, not copied.
func (cat *Catalogue) Clone() *Catalogue {
	if cat == nil {
		return &Catalogue{}
	}
	c := &Catalogue{Language: cat.Language, Fallback: cat.Fallback, Labels: make(map[Category]map[string]string, len(cat.Labels))}
	for k, m := range cat.Labels {
		c.Labels[k] = maps.Clone(m)
	}
	return c
}

// Readable returns key as a label: dashes and underscores become spaces
// and the first letter is upper case ("in-review" becomes "In review").
func Readable(key string) string {
	s := strings.NewReplacer("-", " ", "_", " ").Replace(key)
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// French returns a fresh copy of the French catalogue, the default.
func French() *Catalogue { return (&Catalogue{Language: "fr", Labels: french}).Clone() }

// English returns a fresh copy of the English catalogue.
func English() *Catalogue { return (&Catalogue{Language: "en", Labels: english}).Clone() }

// Default returns a fresh copy of the default catalogue, French.
func Default() *Catalogue { return French() }

// ForLanguage returns a fresh copy of the built-in catalogue for a BCP 47
// tag ("en", "en-GB", "fr-CA"; case does not matter), French for any other.
func ForLanguage(tag string) *Catalogue {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	primary, _, _ = strings.Cut(primary, "_")
	if primary == "en" {
		return English()
	}
	return French()
}

// Keys returns the keys of category c that the built-in catalogues label,
// sorted. For event types and privileges, which this package knows only by
// value, a test beside their declaration compares its list with this one.
func Keys(c Category) []string { return slices.Sorted(maps.Keys(french[c])) }

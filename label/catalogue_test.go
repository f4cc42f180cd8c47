package label

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
)

// constValues returns the values of the string constants of type typeName
// declared in the Go package in dir (test files left out), so that a
// constant added there without a label fails the tests here.
func constValues(t *testing.T, dir, typeName string) []string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
					continue
				}
				for i, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					require.True(t, ok && lit.Kind == token.STRING, "%s: %s is not a string literal", typeName, vs.Names[i].Name)
					s, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					out = append(out, s)
				}
			}
		}
	}
	require.NotEmpty(t, out, "no constant of type %s in %s", typeName, dir)
	slices.Sort(out)
	return out
}

// TestDomainCovered: every state and review decision declared in package
// interaction, every event type of package port, every privilege of the
// Workspace and every default reject reason of package qa has a label in
// both catalogues.
func TestDomainCovered(t *testing.T) {
	states := constValues(t, "../interaction", "State")
	decisions := constValues(t, "../interaction", "Decision")
	for _, s := range []interaction.State{interaction.StateRejected, interaction.StateInReview, interaction.StateAnswered} {
		require.Contains(t, states, string(s), "the enumeration finds the states")
	}
	require.Contains(t, decisions, string(qa.Approved))
	domain := map[Category][]string{States: states, Decisions: decisions, Reasons: qa.DefaultRejectReasons}
	for _, cat := range []*Catalogue{French(), English()} {
		for c, keys := range domain {
			for _, k := range keys {
				l, ok := cat.Lookup(c, k)
				assert.True(t, ok, "%s: %s %q has no label", cat.Language, c, k)
				assert.NotEmpty(t, strings.TrimSpace(l))
			}
			assert.ElementsMatch(t, keys, Keys(c), "%s: the catalogue labels exactly what the domain declares", c)
		}
	}
	// Event types (package port) and privileges (the root package) are
	// read from their sources: this package imports neither.
	wire := map[Category][]string{Events: constValues(t, "../port", "EventType"), Privileges: constValues(t, "..", "Privilege")}
	require.Contains(t, wire[Events], "rejected")
	require.Contains(t, wire[Privileges], "dial-any")
	for _, cat := range []*Catalogue{French(), English()} {
		for c, keys := range wire {
			for _, k := range keys {
				_, ok := cat.Lookup(c, k)
				assert.True(t, ok, "%s: %s %q has no label", cat.Language, c, k)
			}
			assert.ElementsMatch(t, keys, Keys(c), "%s: the catalogue labels exactly what is declared", c)
		}
	}
}

// TestCataloguesAgree: both catalogues label the same keys, none blank.
func TestCataloguesAgree(t *testing.T) {
	fr, en := French(), English()
	for _, c := range Categories() {
		require.NotEmpty(t, Keys(c), c)
		assert.Equal(t, Keys(c), slices.Sorted(maps.Keys(en.Labels[c])), "%s: English labels the keys French does", c)
		for _, k := range Keys(c) {
			for _, cat := range []*Catalogue{fr, en} {
				l := cat.Labels[c][k]
				assert.Equal(t, strings.TrimSpace(l), l, "%s %s %q", cat.Language, c, k)
				assert.NotEmpty(t, l)
			}
		}
	}
}

func TestLabels(t *testing.T) {
	fr, en := French(), English()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"rejected state, French", fr.State(interaction.StateRejected), "Refusé"},
		{"rejected state, English", en.State(interaction.StateRejected), "Rejected"},
		{"in review", fr.State(interaction.StateInReview), "En révision"},
		{"review decision", fr.Decision(qa.Rejected), "Refusé"},
		{"review decision, English", en.Decision(qa.Withdrawn), "Withdrawn"},
		{"event by value", fr.Event("timed-out"), "Délai d'acceptation dépassé"},
		{"privilege by value", en.Privilege("dial-any"), "Call any number"},
		{"reason", fr.Reason("tone"), "Ton"},
		{"default is French", Default().State(interaction.StateDraft), "Brouillon"},
		{"unknown key made readable", fr.State("on-hold"), "On hold"},
		{"unknown event", en.Event("custom_thing"), "Custom thing"},
		{"nil catalogue", (*Catalogue)(nil).State(interaction.StateInReview), "In review"},
		{"zero catalogue", new(Catalogue).Privilege("supervise"), "Supervise"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

// TestHostChanges: a host replaces labels on its copy, adds its own keys,
// falls back on another catalogue, or loads one from JSON.
func TestHostChanges(t *testing.T) {
	mine := French()
	mine.Set(States, "rejected", "À revoir")
	mine.Set(Events, "sla-warning", "Délai bientôt dépassé")
	assert.Equal(t, "À revoir", mine.State(interaction.StateRejected))
	assert.Equal(t, "Délai bientôt dépassé", mine.Event("sla-warning"))
	assert.Equal(t, "Refusé", French().State(interaction.StateRejected), "the built-in catalogue is untouched")

	mine.Set(States, "rejected", "")
	assert.Equal(t, "Rejected", mine.State(interaction.StateRejected), "removed: readable form")

	clone := mine.Clone()
	clone.Set(Reasons, "tone", "Formulation")
	assert.Equal(t, "Ton", mine.Reason("tone"))
	assert.Equal(t, "Formulation", clone.Reason("tone"))

	var partial Catalogue
	partial.Language = "fr-CA"
	partial.Set(States, "parked", "Dans un panier")
	partial.Fallback = French()
	assert.Equal(t, "Dans un panier", partial.State(interaction.StateParked))
	assert.Equal(t, "Refusé", partial.State(interaction.StateRejected), "from the fallback")
	l, ok := partial.Lookup(States, "nowhere")
	assert.False(t, ok)
	assert.Empty(t, l)

	loop := &Catalogue{}
	loop.Fallback = loop
	assert.Equal(t, "Done", loop.State(interaction.StateDone), "a cycle of fallbacks ends")

	var loaded Catalogue
	require.NoError(t, json.Unmarshal([]byte(`{"language":"de","labels":{"state":{"rejected":"Abgelehnt"}}}`), &loaded))
	loaded.Fallback = English()
	assert.Equal(t, "Abgelehnt", loaded.State(interaction.StateRejected))
	assert.Equal(t, "Sent", loaded.State(interaction.StateSent))
	b, err := json.Marshal(English())
	require.NoError(t, err)
	assert.Contains(t, string(b), `"rejected":"Rejected"`)
}

func TestForLanguage(t *testing.T) {
	tests := []struct{ tag, want string }{
		{"fr", "fr"}, {"fr-CA", "fr"}, {"en", "en"}, {"en-GB", "en"}, {"EN_us", "en"}, {" en ", "en"},
		{"de", "fr"}, {"", "fr"}, {"english", "fr"},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			assert.Equal(t, tt.want, ForLanguage(tt.tag).Language)
		})
	}
}

func TestReadable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""}, {"in-review", "In review"}, {"dial_any", "Dial any"}, {"état", "État"}, {"X", "X"}, {"\xff-x", "\xff x"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Readable(tt.in), tt.in)
	}
}

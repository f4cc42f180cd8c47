package postgres_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/emailflow/emailflow/contact"
)

// TestSearchLikeIndex checks that SearchContacts finds what contact.Index
// finds, in the same order, with the same totals, for queries exercising
// every rule: name-word prefixes (accents, case, hyphens, apostrophes),
// address prefixes, phone digits in several forms, blank and punctuation.
func TestSearchLikeIndex(t *testing.T) {
	s := freshStore(t)
	ctx := t.Context()
	idx := contact.NewIndex()
	people := []contact.Contact{
		{FirstName: "Hélène", LastName: "Dupont", Emails: []string{"helene.dupont@exemple.fr"}, Phones: []string{"+33 6 12 34 56 78"}},
		{FirstName: "Jean-Pierre", LastName: "Saint-Exupéry", Emails: []string{"jp@aeropostale.fr", "Jean.Pierre@Exemple.FR"}},
		{FirstName: "Anne", LastName: "d'Artagnan", Phones: []string{"01 45 67 89 00", "+1 (555) 010-9999"}},
		{FirstName: "Zoé", LastName: "Œuvray", Emails: []string{"zoe@oeuvre.example"}},
		{FirstName: "Marc", LastName: "Dupond", Emails: []string{"marc+shop@exemple.fr"}},
		{LastName: "Müller", FirstName: "Jürgen", Phones: []string{"0049 30 1234567"}},
		{Emails: []string{"anonyme@exemple.fr"}},
		{Phones: []string{"06 99 88 77 66"}},
		{FirstName: "Ægir", LastName: "Straße"},
		{FirstName: "helene", LastName: "DUPONT", Emails: []string{"h.dupont@autre.example"}},
	}
	for i, c := range people {
		c.ID = fmt.Sprintf("p%02d", i)
		if err := s.CreateContact(ctx, c); err != nil {
			t.Fatalf("create %s: %v", c.ID, err)
		}
		idx.Put(c)
	}
	queries := []string{
		"", "  ", "-", "@", "helene", "HÉLÈNE", "hel", "dupon", "dupont helene", "helene dupond",
		"saint", "exu", "saint-ex", "saintex", "jean-p", "jean pierre", "d'art", "dart", "artagnan",
		"oeuvray", "œuv", "zoe", "muller", "jurgen", "aegir", "strasse",
		"helene.dupont@exemple.fr", "helene.d", "jean.pierre@exemple", "JP@", "marc+", "anonyme", "@exemple",
		"+33 6 12 34 56 78", "0612345678", "612", "06 12", "5678", "0145678900", "555", "(555) 010", "00493012",
		"12", "99 88", "nobody", "exemple.fr",
	}
	found := 0
	for _, q := range queries {
		if idx.Search(q, contact.Page{}).Total > 0 {
			found++
		}
		for _, pg := range []contact.Page{{}, {Offset: 1, Limit: 2}, {Offset: 50}} {
			want := idx.Search(q, pg)
			got, err := s.SearchContacts(ctx, q, pg)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			if got.Total != want.Total || !slices.Equal(ids(got.Contacts), ids(want.Contacts)) {
				t.Errorf("search %q %+v: got %v of %d, contact.Index gives %v of %d", q, pg, ids(got.Contacts), got.Total, ids(want.Contacts), want.Total)
			}
		}
	}
	if found < len(queries)*2/3 {
		t.Errorf("only %d of %d queries find something: the corpus no longer exercises the rules", found, len(queries))
	}
}

func ids(cs []contact.Contact) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

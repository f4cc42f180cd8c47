package contact_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/contact"
)

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func people() []contact.Contact {
	return []contact.Contact{
		{ID: "c1", FirstName: "Hélène", LastName: "Dupont", Emails: []string{"helene.dupont@example.fr"}, Phones: []string{"+33 6 12 34 56 78"}, UpdatedAt: t0},
		{ID: "c2", FirstName: "Jean-Pierre", LastName: "Martin", Emails: []string{"JP.Martin@Example.fr", "jp@home.fr"}, Phones: []string{"01 23 45 67 89"}, UpdatedAt: t0},
		{ID: "c3", FirstName: "Helena", LastName: "Saint-Exupéry", Emails: []string{"helena@x.org"}, UpdatedAt: t0},
		{ID: "c4", FirstName: "Zoë", LastName: "Dupont", Emails: []string{"zoe+shop@example.fr"}, Phones: []string{"+44 20 7946 0958"}, UpdatedAt: t0},
		{ID: "c5", FirstName: "François", LastName: "d'Artagnan", UpdatedAt: t0},
		{ID: "c6", Emails: []string{"anonymous@example.fr"}, UpdatedAt: t0},
	}
}

func ids(cs []contact.Contact) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// indexes returns the same contacts indexed three ways: all still in the
// recent-changes list, all merged into the sorted arrays, and half and half,
// so that every test covers both search paths.
func indexes(t *testing.T, cs []contact.Contact) map[string]*contact.Index {
	t.Helper()
	recent := contact.NewIndex()
	for _, c := range cs {
		recent.Put(c)
	}
	merged := contact.NewIndex()
	merged.PutAll(append(cs, filler(600)...))
	for _, f := range filler(600) {
		merged.Remove(f.ID)
	}
	mixed := contact.NewIndex()
	mixed.PutAll(append(cs[:len(cs)/2:len(cs)/2], filler(600)...))
	for _, f := range filler(600) {
		mixed.Remove(f.ID)
	}
	for _, c := range cs[len(cs)/2:] {
		mixed.Put(c)
	}
	for name, x := range map[string]*contact.Index{"recent": recent, "merged": merged, "mixed": mixed} {
		require.Equal(t, len(cs), x.Len(), name)
	}
	return map[string]*contact.Index{"recent": recent, "merged": merged, "mixed": mixed}
}

// filler returns n contacts that no test query matches, enough to force a
// merge of the index's recent changes.
func filler(n int) []contact.Contact {
	cs := make([]contact.Contact, n)
	for i := range cs {
		cs[i] = contact.Contact{ID: fmt.Sprintf("f%04d", i), LastName: "Qqq", FirstName: "Www"}
	}
	return cs
}

func TestSearch(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		// accent- and case-insensitive, prefix of any name word
		{"helene", []string{"c1"}},
		{"HELENE", []string{"c1"}},
		{"Hélène", []string{"c1"}},
		{"hel", []string{"c1", "c3"}},
		{"HÉL", []string{"c1", "c3"}},
		{"dupont", []string{"c1", "c4"}},
		{"zoe", []string{"c4"}},
		{"francois", []string{"c5"}},
		// several words: all must match
		{"helene dupont", []string{"c1"}},
		{"dupont helene", []string{"c1"}},
		{"hel dup", []string{"c1"}},
		{"helene martin", nil},
		// hyphens and apostrophes
		{"jean", []string{"c2"}},
		{"pierre", []string{"c2"}},
		{"jean-pierre", []string{"c2"}},
		{"jean-p", []string{"c2"}},
		{"jeanpierre", []string{"c2"}},
		{"exupery", []string{"c3"}},
		{"saint-ex", []string{"c3"}},
		{"saintex", []string{"c3"}},
		{"artagnan", []string{"c5"}},
		{"dartagnan", []string{"c5"}},
		{"d'art", []string{"c5"}},
		// addresses: prefix of the normalized address
		{"helene.dupont@example.fr", []string{"c1"}},
		{"HELENE.DUPONT@EXAMPLE.FR", []string{"c1"}},
		{"jp.martin@example.fr", []string{"c2"}},
		{"jp@home", []string{"c2"}},
		{"jp", []string{"c2"}},
		{"zoe+shop", []string{"c4"}},
		{"zoe@example.fr", nil},
		{"anonymous", []string{"c6"}},
		{"@example.fr", nil},
		// phone digits
		{"612345", []string{"c1"}},
		{"0612", []string{"c1"}},
		{"06 12 34 56 78", []string{"c1"}},
		{"+33 6 12 34 56 78", []string{"c1"}},
		{"+33612345678", []string{"c1"}},
		{"0033 6 12 34 56 78", []string{"c1"}},
		{"33612345678", []string{"c1"}},
		{"0123456789", []string{"c2"}},
		{"01 23 45", []string{"c1", "c2"}}, // the trunk 0 is dropped: "12345" is in both numbers
		{"45 67 89", []string{"c2"}},
		{"7946", []string{"c4"}},
		{"(020) 7946-0958", []string{"c4"}},
		{"12", nil}, // too few digits for a phone search
		{"dupont 612", []string{"c1"}},
		{"dupont +33 6 12", []string{"c1"}},
		{"06 12 34 dupont", []string{"c1"}},
		{"dupont 06 12 helene", []string{"c1"}},
		{"zoe 06 12", nil},
		// nothing to search for
		{"-", nil},
		{"nobody", nil},
	}
	for name, x := range indexes(t, people()) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.query, func(t *testing.T) {
				res := x.Search(tt.query, contact.Page{})
				assert.Equal(t, tt.want, nilIfEmpty(ids(res.Contacts)))
				assert.Equal(t, len(tt.want), res.Total)
			})
		}
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestSearchOrderAndBlankQuery(t *testing.T) {
	// Order: folded last name, first name, ID; no name → primary address.
	want := []string{"c6", "c5", "c1", "c4", "c2", "c3"}
	for name, x := range indexes(t, people()) {
		res := x.Search("  ", contact.Page{})
		assert.Equal(t, want, ids(res.Contacts), name)
		assert.Equal(t, 6, res.Total, name)
	}
}

func TestSearchPaging(t *testing.T) {
	var cs []contact.Contact
	for i := range 45 {
		cs = append(cs, contact.Contact{ID: fmt.Sprintf("p%02d", i), FirstName: "Hélène", LastName: fmt.Sprintf("Nom%02d", i)})
	}
	for name, x := range indexes(t, cs) {
		t.Run(name, func(t *testing.T) {
			res := x.Search("helene", contact.Page{})
			require.Equal(t, 45, res.Total)
			require.Len(t, res.Contacts, contact.DefaultLimit)
			assert.Equal(t, "p00", res.Contacts[0].ID)

			var seen []string
			for off := 0; off < 45; off += 10 {
				res := x.Search("helene", contact.Page{Offset: off, Limit: 10})
				assert.Equal(t, 45, res.Total)
				seen = append(seen, ids(res.Contacts)...)
			}
			assert.Equal(t, ids(cs), seen, "pages follow each other without gap or repeat")

			last := x.Search("helene", contact.Page{Offset: 40, Limit: 10})
			assert.Equal(t, []string{"p40", "p41", "p42", "p43", "p44"}, ids(last.Contacts))

			past := x.Search("helene", contact.Page{Offset: 45})
			assert.Empty(t, past.Contacts)
			assert.Equal(t, 45, past.Total)

			neg := x.Search("helene", contact.Page{Offset: -3, Limit: 2})
			assert.Equal(t, []string{"p00", "p01"}, ids(neg.Contacts))
		})
	}
}

func TestSearchLimitCapped(t *testing.T) {
	x := contact.NewIndex()
	x.PutAll(filler(300))
	res := x.Search("qqq", contact.Page{Limit: 1000})
	assert.Equal(t, 300, res.Total)
	assert.Len(t, res.Contacts, contact.MaxLimit)
}

func TestPutReplacesAndRemove(t *testing.T) {
	for name, x := range indexes(t, people()) {
		t.Run(name, func(t *testing.T) {
			c, ok := x.Get("c1")
			require.True(t, ok)
			c.FirstName, c.Emails = "Marie", []string{"marie@example.fr"}
			x.Put(c)

			assert.Empty(t, x.Search("helene", contact.Page{}).Contacts)
			assert.Equal(t, []string{"c1"}, ids(x.Search("marie dupont", contact.Page{}).Contacts))
			assert.Empty(t, x.ByAddress("helene.dupont@example.fr"))
			assert.Equal(t, []string{"c1"}, ids(x.ByAddress("marie@example.fr")))
			assert.Equal(t, 6, x.Len())

			x.Remove("c1")
			x.Remove("missing")
			_, ok = x.Get("c1")
			assert.False(t, ok)
			assert.Empty(t, x.Search("marie", contact.Page{}).Contacts)
			assert.Empty(t, x.ByAddress("marie@example.fr"))
			assert.Equal(t, 5, x.Len())
		})
	}
}

func TestIndexKeepsItsOwnCopy(t *testing.T) {
	x := contact.NewIndex()
	c := contact.Contact{ID: "c1", FirstName: "Hélène", Emails: []string{"h@x.fr"}}
	x.Put(c)
	c.Emails[0] = "changed@x.fr"
	got, ok := x.Get("c1")
	require.True(t, ok)
	assert.Equal(t, "h@x.fr", got.Emails[0])
	got.Emails[0] = "changed@x.fr"
	again, _ := x.Get("c1")
	assert.Equal(t, "h@x.fr", again.Emails[0])

	// Search results are copies too, and independent of each other.
	x.Put(contact.Contact{ID: "c2", FirstName: "Hélène", Emails: []string{"h2@x.fr"}, Phones: []string{"0102"}, Attributes: map[string]string{"k": "v"}})
	res := x.Search("helene", contact.Page{})
	require.Len(t, res.Contacts, 2)
	res.Contacts[0].Emails = append(res.Contacts[0].Emails, "appended@x.fr")
	res.Contacts[0].Emails[0] = "changed@x.fr"
	res.Contacts[1].Phones[0] = "9999"
	res.Contacts[1].Attributes["k"] = "changed"
	assert.Equal(t, []string{"h2@x.fr"}, res.Contacts[1].Emails)
	c1, _ := x.Get("c1")
	c2, _ := x.Get("c2")
	assert.Equal(t, []string{"h@x.fr"}, c1.Emails)
	assert.Equal(t, []string{"0102"}, c2.Phones)
	assert.Equal(t, "v", c2.Attributes["k"])

	x.Put(contact.Contact{FirstName: "No ID"})
	assert.Equal(t, 2, x.Len(), "a contact without an ID is ignored")
}

func TestSharedAddress(t *testing.T) {
	x := contact.NewIndex()
	x.PutAll([]contact.Contact{
		{ID: "old", LastName: "Dupont", Emails: []string{"famille.dupont@example.fr"}, UpdatedAt: t0},
		{ID: "new", LastName: "Dupont", Emails: []string{"Famille.Dupont@Example.FR"}, UpdatedAt: t0.Add(time.Hour)},
		{ID: "b-tie", LastName: "Dupont", Emails: []string{"other@example.fr", "famille.dupont@example.fr"}, UpdatedAt: t0},
		{ID: "plus", LastName: "Dupont", Emails: []string{"famille.dupont+shop@example.fr"}, UpdatedAt: t0.Add(2 * time.Hour)},
	})

	got := x.ByAddress(" FAMILLE.dupont@example.fr ")
	assert.Equal(t, []string{"new", "b-tie", "old"}, ids(got), "newest UpdatedAt first, then ID")
	assert.Equal(t, []string{"plus"}, ids(x.ByAddress("famille.dupont+shop@example.fr")), "plus-addressing is kept")
	assert.Empty(t, x.ByAddress("nobody@example.fr"))

	c, err := x.Identify("famille.dupont@example.fr", nil)
	require.NoError(t, err)
	assert.Equal(t, "new", c.ID)

	pickOldest := func(addr string, cands []contact.Contact) (contact.Contact, error) {
		assert.Equal(t, "famille.dupont@example.fr", addr)
		assert.Len(t, cands, 3)
		return cands[len(cands)-1], nil
	}
	c, err = x.Identify("famille.dupont@example.fr", pickOldest)
	require.NoError(t, err)
	assert.Equal(t, "old", c.ID)

	errAsk := errors.New("ask an agent")
	_, err = x.Identify("famille.dupont@example.fr", func(string, []contact.Contact) (contact.Contact, error) {
		return contact.Contact{}, errAsk
	})
	assert.ErrorIs(t, err, errAsk)

	c, err = x.Identify("famille.dupont+shop@example.fr", func(string, []contact.Contact) (contact.Contact, error) {
		t.Error("the Chooser is not asked when one contact has the address")
		return contact.Contact{}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, "plus", c.ID)

	_, err = x.Identify("nobody@example.fr", pickOldest)
	assert.ErrorIs(t, err, contact.ErrNotFound)
}

func TestMostRecent(t *testing.T) {
	a := contact.Contact{ID: "a", UpdatedAt: t0}
	b := contact.Contact{ID: "b", UpdatedAt: t0}
	c := contact.Contact{ID: "c", UpdatedAt: t0.Add(time.Second)}
	tests := []struct {
		name  string
		cands []contact.Contact
		want  string
	}{
		{"single", []contact.Contact{a}, "a"},
		{"newest wins", []contact.Contact{a, c, b}, "c"},
		{"tie by ID", []contact.Contact{b, a}, "a"},
		{"zero times tie by ID", []contact.Contact{{ID: "z"}, {ID: "y"}}, "y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := contact.MostRecent("x@y.fr", tt.cands)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.ID)
		})
	}
	_, err := contact.MostRecent("x@y.fr", nil)
	assert.ErrorIs(t, err, contact.ErrNotFound)
	assert.Contains(t, err.Error(), "x@y.fr")
}

func TestConcurrentPutSearch(t *testing.T) {
	x := contact.NewIndex()
	x.PutAll(filler(1000))
	const writers, perWriter = 4, 400
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%d", w, i%150)
				x.Put(contact.Contact{ID: id, FirstName: "Hélène", LastName: fmt.Sprintf("W%d", w),
					Emails: []string{fmt.Sprintf("w%d-%d@example.fr", w, i%150)}, UpdatedAt: t0.Add(time.Duration(i))})
				if i%7 == 0 {
					x.Remove(fmt.Sprintf("f%04d", w*250+i/7))
				}
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				res := x.Search("hel", contact.Page{Offset: i % 50, Limit: 30})
				assert.LessOrEqual(t, len(res.Contacts), 30)
				assert.LessOrEqual(t, res.Total, writers*150)
				x.ByAddress("w1-3@example.fr")
				x.Get("w2-4")
			}
		}()
	}
	wg.Wait()

	res := x.Search("helene", contact.Page{Limit: contact.MaxLimit})
	assert.Equal(t, writers*150, res.Total)
	res = x.Search("helene w2", contact.Page{Limit: contact.MaxLimit})
	assert.Equal(t, 150, res.Total)
	assert.Equal(t, 1000+writers*150-writers*((perWriter+6)/7), x.Len())
	assert.Equal(t, 1000-writers*((perWriter+6)/7), x.Search("qqq", contact.Page{}).Total)
}

func TestDeepPaging(t *testing.T) {
	x := contact.NewIndex()
	var cs []contact.Contact
	for i := range 1000 {
		cs = append(cs, contact.Contact{ID: fmt.Sprintf("m%04d", i), FirstName: "Élodie", LastName: fmt.Sprintf("Nom%04d", (i*7919)%1000)})
	}
	x.PutAll(cs)
	for i := range 100 { // not merged yet, interleaved in the order
		x.Put(contact.Contact{ID: fmt.Sprintf("u%03d", i), FirstName: "Élodie", LastName: fmt.Sprintf("Nom%04d", i*10)})
	}
	var all []string
	for off := 0; ; off += contact.MaxLimit {
		res := x.Search("elodie", contact.Page{Offset: off, Limit: contact.MaxLimit})
		require.Equal(t, 1100, res.Total)
		all = append(all, ids(res.Contacts)...)
		if len(res.Contacts) < contact.MaxLimit {
			break
		}
	}
	require.Len(t, all, 1100)
	for _, off := range []int{0, 63, 64, 65, 127, 500, 777, 1090, 1099} {
		res := x.Search("elodie", contact.Page{Offset: off, Limit: 7})
		assert.Equal(t, all[off:min(off+7, 1100)], ids(res.Contacts), "offset %d", off)
	}
}

func TestInsert(t *testing.T) {
	x := contact.NewIndex()
	assert.True(t, x.Insert(contact.Contact{ID: "c1", LastName: "Dupont"}))
	assert.False(t, x.Insert(contact.Contact{ID: "c1", LastName: "Martin"}), "the ID exists")
	assert.False(t, x.Insert(contact.Contact{LastName: "No ID"}))
	c, ok := x.Get("c1")
	require.True(t, ok)
	assert.Equal(t, "Dupont", c.LastName)

	// Racing inserts of one ID: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if x.Insert(contact.Contact{ID: "race", FirstName: fmt.Sprint(i)}) {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
}

func TestZeroIndex(t *testing.T) {
	var x contact.Index
	assert.Equal(t, 0, x.Len())
	assert.Empty(t, x.Search("", contact.Page{}).Contacts)
	assert.Empty(t, x.ByAddress("a@b.fr"))
	x.Remove("none")
	_, ok := x.Get("none")
	assert.False(t, ok)
	x.Put(contact.Contact{ID: "c1", FirstName: "Hélène", Emails: []string{"a@b.fr"}})
	assert.Equal(t, []string{"c1"}, ids(x.Search("hel", contact.Page{}).Contacts))
	assert.Equal(t, []string{"c1"}, ids(x.ByAddress("A@B.fr")))
}

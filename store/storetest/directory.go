package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/contact"
)

// person returns a valid contact with one address, updated at minute.
func person(id, first, addr string, minute int) contact.Contact {
	return contact.Contact{
		ID:         id,
		FirstName:  first,
		LastName:   "Dupont",
		Emails:     []string{addr, id + "@autre.example"},
		Phones:     []string{"+33 1 23 45 67 89"},
		Language:   "fr",
		Attributes: map[string]string{"tier": "gold"},
		CreatedAt:  at(0),
		UpdatedAt:  at(minute),
	}
}

func contactIDs(cs []contact.Contact) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// directory returns a fresh store as a Directory, skipping the test when
// the store is not one.
func directory(t *testing.T, newStore newFunc) emailflow.Directory {
	t.Helper()
	d, ok := fresh(t, newStore).(emailflow.Directory)
	if !ok {
		t.Skip("the store does not implement emailflow.Directory")
	}
	return d
}

func testDirectory(t *testing.T, newStore newFunc) {
	t.Run("NotFound", func(t *testing.T) {
		d := directory(t, newStore)
		require.NoError(t, d.CreateContact(t.Context(), person("c1", "Hélène", "helene@exemple.fr", 0)))
		_, err := d.Contact(t.Context(), "unknown")
		assert.ErrorIs(t, err, emailflow.ErrNotFound)
		cs, err := d.ContactsByAddress(t.Context(), "nobody@exemple.fr")
		assert.NoError(t, err)
		assert.Empty(t, cs)
	})

	t.Run("CreateAndGet", func(t *testing.T) {
		d := directory(t, newStore)
		bare := contact.Contact{ID: "bare", Emails: []string{"bare@exemple.fr"}}
		for _, c := range []contact.Contact{person("c1", "Hélène", "helene@exemple.fr", 0), bare} {
			require.NoError(t, d.CreateContact(t.Context(), c.Clone()))
			got, err := d.Contact(t.Context(), c.ID)
			require.NoError(t, err)
			same(t, c, got)
		}
	})

	t.Run("CreateDuplicate", func(t *testing.T) {
		d := directory(t, newStore)
		ctx := t.Context()
		require.NoError(t, d.CreateContact(ctx, person("c1", "Hélène", "helene@exemple.fr", 0)))
		err := d.CreateContact(ctx, person("c1", "Paul", "paul@exemple.fr", 5))
		assert.ErrorIs(t, err, emailflow.ErrConflict)
		got, err := d.Contact(ctx, "c1")
		require.NoError(t, err)
		same(t, person("c1", "Hélène", "helene@exemple.fr", 0), got, "the first contact stays")
		cs, err := d.ContactsByAddress(ctx, "paul@exemple.fr")
		require.NoError(t, err)
		assert.Empty(t, cs, "the refused contact's address finds nothing")
	})

	t.Run("CreateSameIDConcurrently", func(t *testing.T) {
		d := directory(t, newStore)
		ctx := t.Context()
		const n = 8
		errs := race(n, func(i int) error {
			return d.CreateContact(ctx, person("c1", fmt.Sprintf("Person%d", i), fmt.Sprintf("p%d@exemple.fr", i), i))
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two creates of one id succeeded")
				winner = i
				continue
			}
			assert.ErrorIs(t, err, emailflow.ErrConflict)
		}
		require.NotEqual(t, -1, winner, "no create succeeded")
		got, err := d.Contact(ctx, "c1")
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("Person%d", winner), got.FirstName)
		for i := range n {
			want := []string(nil)
			if i == winner {
				want = []string{"c1"}
			}
			cs, err := d.ContactsByAddress(ctx, fmt.Sprintf("p%d@exemple.fr", i))
			require.NoError(t, err)
			emptyOr(t, want, contactIDs(cs), "address of creator %d", i)
		}
	})

	t.Run("EnsureContactConcurrently", func(t *testing.T) {
		d := directory(t, newStore)
		e, ok := d.(emailflow.ContactEnsurer)
		if !ok {
			t.Skip("the store does not implement emailflow.ContactEnsurer")
		}
		ctx := t.Context()
		const n = 8
		created := make([][]contact.Contact, n)
		errs := race(n, func(i int) error {
			// One address, written in several ways, by several senders.
			addr := []string{"Helene@Exemple.fr", "helene@exemple.fr", " <HELENE@exemple.fr> "}[i%3]
			c := contact.Contact{ID: fmt.Sprintf("c%d", i), FirstName: fmt.Sprintf("Person%d", i), Emails: []string{strings.TrimSpace(strings.Trim(strings.TrimSpace(addr), "<>"))}, CreatedAt: at(0), UpdatedAt: at(0)}
			var err error
			created[i], err = e.EnsureContact(ctx, c)
			return err
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		cs, err := d.ContactsByAddress(ctx, "helene@exemple.fr")
		require.NoError(t, err)
		require.Len(t, cs, 1, "one contact per address")
		for i := range n {
			assert.Equal(t, contactIDs(cs), contactIDs(created[i]), "caller %d gets the one contact", i)
		}
		// Known addresses are found, not created again.
		got, err := e.EnsureContact(ctx, contact.Contact{ID: "late", Emails: []string{"helene@exemple.fr"}})
		require.NoError(t, err)
		assert.Equal(t, contactIDs(cs), contactIDs(got))
		_, err = d.Contact(ctx, "late")
		assert.ErrorIs(t, err, emailflow.ErrNotFound)
		// What CreateContact refuses, EnsureContact refuses.
		_, err = e.EnsureContact(ctx, contact.Contact{ID: "bad", Emails: []string{`"john doe"@exemple.fr`}})
		assert.ErrorIs(t, err, emailflow.ErrInvalidInput)
	})

	t.Run("ByAddress", func(t *testing.T) {
		d := directory(t, newStore)
		ctx := t.Context()
		require.NoError(t, d.CreateContact(ctx, person("c1", "Hélène", "helene@exemple.fr", 0)))
		require.NoError(t, d.CreateContact(ctx, person("c2", "Paul", "Paul.Martin@Exemple.FR", 0)))
		for _, tc := range []struct {
			addr string
			want []string
		}{
			{"helene@exemple.fr", []string{"c1"}},
			{"Helene@Exemple.FR", []string{"c1"}},
			{"HELENE@EXEMPLE.FR", []string{"c1"}},
			{" <helene@exemple.fr> ", []string{"c1"}},
			{"c1@autre.example", []string{"c1"}},
			{"paul.martin@exemple.fr", []string{"c2"}},
			{"Paul.Martin@Exemple.FR", []string{"c2"}},
			{"helene+shop@exemple.fr", nil},
			{"helene@exemple.f", nil},
			{"", nil},
		} {
			name := tc.addr
			if name == "" {
				name = "Empty"
			}
			t.Run(name, func(t *testing.T) {
				cs, err := d.ContactsByAddress(ctx, tc.addr)
				require.NoError(t, err)
				if len(tc.want) == 0 {
					assert.Empty(t, cs)
					return
				}
				assert.Equal(t, tc.want, contactIDs(cs))
			})
		}
	})

	t.Run("ByAddressNewestFirst", func(t *testing.T) {
		d := directory(t, newStore)
		ctx := t.Context()
		shared := "famille@exemple.fr"
		for _, c := range []contact.Contact{
			person("b-middle", "Hélène", shared, 60),
			person("c-oldest", "Paul", "Famille@Exemple.fr", 0),
			person("a-newest", "Léa", shared, 120),
			person("d-other", "Marc", "marc@exemple.fr", 500),
		} {
			require.NoError(t, d.CreateContact(ctx, c))
		}
		cs, err := d.ContactsByAddress(ctx, "FAMILLE@exemple.fr")
		require.NoError(t, err)
		assert.Equal(t, []string{"a-newest", "b-middle", "c-oldest"}, contactIDs(cs))
		for i := 1; i < len(cs); i++ {
			assert.False(t, cs[i].UpdatedAt.After(cs[i-1].UpdatedAt), "newest UpdatedAt first")
		}
	})

	t.Run("UpdateContact", func(t *testing.T) { testDirectoryUpdate(t, newStore) })
	t.Run("SearchContacts", func(t *testing.T) { testDirectorySearch(t, newStore) })

	t.Run("Copies", func(t *testing.T) {
		d := directory(t, newStore)
		ctx := t.Context()
		c := person("c1", "Hélène", "helene@exemple.fr", 0)
		require.NoError(t, d.CreateContact(ctx, c))
		want := c.Clone()

		c.Emails[0], c.Phones[0], c.Attributes["tier"] = "mallory@evil.example", "+1 555 0100", "none"
		got, err := d.Contact(ctx, "c1")
		require.NoError(t, err)
		same(t, want, got, "changing the contact passed to CreateContact")

		got.Emails[0], got.Attributes["tier"], got.UpdatedAt = "mallory@evil.example", "none", time.Time{}
		cs, err := d.ContactsByAddress(ctx, "helene@exemple.fr")
		require.NoError(t, err)
		require.Len(t, cs, 1)
		same(t, want, cs[0], "changing a contact Contact returned")

		cs[0].Emails[1], cs[0].Attributes["tier"] = "x@x.example", "none"
		got, err = d.Contact(ctx, "c1")
		require.NoError(t, err)
		same(t, want, got, "changing a contact ContactsByAddress returned")
		cs, err = d.ContactsByAddress(ctx, "mallory@evil.example")
		require.NoError(t, err)
		assert.Empty(t, cs)
	})
}

// byAddress returns the ids ContactsByAddress gives.
func byAddress(t *testing.T, d emailflow.Directory, addr string) []string {
	t.Helper()
	cs, err := d.ContactsByAddress(t.Context(), addr)
	require.NoError(t, err)
	return contactIDs(cs)
}

// search returns SearchContacts(query, page).
func search(t *testing.T, d emailflow.Directory, query string, page contact.Page) contact.Result {
	t.Helper()
	r, err := d.SearchContacts(t.Context(), query, page)
	require.NoError(t, err)
	return r
}

func testDirectoryUpdate(t *testing.T, newStore newFunc) {
	t.Run("UnknownID", func(t *testing.T) {
		d := directory(t, newStore)
		err := d.UpdateContact(t.Context(), person("c1", "Hélène", "helene@exemple.fr", 0))
		assert.ErrorIs(t, err, emailflow.ErrNotFound)
		_, err = d.Contact(t.Context(), "c1")
		assert.ErrorIs(t, err, emailflow.ErrNotFound, "an update does not create")
		emptyOr(t, nil, byAddress(t, d, "helene@exemple.fr"))
	})

	t.Run("Replace", func(t *testing.T) {
		d := directory(t, newStore)
		ctx := t.Context()
		require.NoError(t, d.CreateContact(ctx, person("c1", "Hélène", "helene@exemple.fr", 0)))
		require.NoError(t, d.CreateContact(ctx, person("c2", "Paul", "famille@exemple.fr", 10)))
		moved := person("c1", "Hélène", "famille@exemple.fr", 20)
		moved.LastName, moved.Phones, moved.Attributes = "Martin", nil, nil
		require.NoError(t, d.UpdateContact(ctx, moved.Clone()))
		got, err := d.Contact(ctx, "c1")
		require.NoError(t, err)
		same(t, moved, got)
		emptyOr(t, nil, byAddress(t, d, "helene@exemple.fr"), "the old address is gone")
		assert.Equal(t, []string{"c1", "c2"}, byAddress(t, d, "Famille@Exemple.fr"), "newest UpdatedAt first")
		assert.Equal(t, 1, search(t, d, "martin", contact.Page{}).Total, "search sees the new name")
		assert.Zero(t, search(t, d, "helene@exemple.fr", contact.Page{}).Total, "nor the old address")
	})

	t.Run("Copies", func(t *testing.T) {
		d := directory(t, newStore)
		ctx := t.Context()
		require.NoError(t, d.CreateContact(ctx, person("c1", "Hélène", "helene@exemple.fr", 0)))
		c := person("c1", "Léa", "lea@exemple.fr", 5)
		require.NoError(t, d.UpdateContact(ctx, c))
		want := c.Clone()
		c.Emails[0], c.Attributes["tier"] = "mallory@evil.example", "none"
		got, err := d.Contact(ctx, "c1")
		require.NoError(t, err)
		same(t, want, got)
	})
}

func testDirectorySearch(t *testing.T, newStore newFunc) {
	newDirectory := func(t *testing.T) emailflow.Directory {
		d := directory(t, newStore)
		for _, c := range []contact.Contact{
			person("c1", "Hélène", "helene@exemple.fr", 0),
			person("c2", "Paul", "paul.martin@exemple.fr", 0),
			person("c3", "Léa", "lea@exemple.fr", 0),
			person("c4", "Marc", "marc@exemple.fr", 0),
			person("c5", "Zoé", "zoe@exemple.fr", 0),
			{ID: "c6", FirstName: "Jean", LastName: "Moulin", Phones: []string{"+33 6 12 34 56 78"}},
		} {
			require.NoError(t, d.CreateContact(t.Context(), c))
		}
		return d
	}

	t.Run("Matches", func(t *testing.T) {
		d := newDirectory(t)
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"helene", []string{"c1"}},
			{"HÉLÈNE", []string{"c1"}},
			{"Helene Dupont", []string{"c1"}},
			{"zoe", []string{"c5"}},
			{"helene@exemple.fr", []string{"c1"}},
			{"Paul.Martin@Exemple.FR", []string{"c2"}},
			{"+33 6 12 34 56 78", []string{"c6"}},
			{"moulin", []string{"c6"}},
			{"dupont", []string{"c1", "c2", "c3", "c4", "c5"}},
			{"nobody", nil},
		} {
			t.Run(tc.query, func(t *testing.T) {
				r := search(t, d, tc.query, contact.Page{Limit: 50})
				assert.Equal(t, len(tc.want), r.Total)
				emptyOr(t, tc.want, sortedIDs(r.Contacts))
			})
		}
	})

	t.Run("Paging", func(t *testing.T) {
		d := newDirectory(t)
		seen := map[string]bool{}
		for offset := 0; offset < 10; offset += 2 {
			r := search(t, d, "dupont", contact.Page{Offset: offset, Limit: 2})
			assert.Equal(t, 5, r.Total, "Total counts every page")
			assert.LessOrEqual(t, len(r.Contacts), 2)
			for _, c := range r.Contacts {
				assert.False(t, seen[c.ID], "%s on two pages", c.ID)
				seen[c.ID] = true
			}
		}
		assert.Len(t, seen, 5, "the pages cover every match")
	})

	t.Run("Copies", func(t *testing.T) {
		d := newDirectory(t)
		r := search(t, d, "helene", contact.Page{})
		require.Len(t, r.Contacts, 1)
		r.Contacts[0].Emails[0], r.Contacts[0].Attributes["tier"] = "mallory@evil.example", "none"
		got, err := d.Contact(t.Context(), "c1")
		require.NoError(t, err)
		same(t, person("c1", "Hélène", "helene@exemple.fr", 0), got)
	})
}

// sortedIDs returns the ids of cs, sorted.
func sortedIDs(cs []contact.Contact) []string {
	ids := contactIDs(cs)
	slices.Sort(ids)
	return ids
}

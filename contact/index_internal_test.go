package contact

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIndexAgreesWithLinearScan checks the sorted arrays, the gram lists
// and the merges against the plain per-contact matching of the recent
// changes list, under random puts, replacements and removals.
func TestIndexAgreesWithLinearScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	firsts := []string{"Hélène", "Helena", "Jean-Pierre", "Zoë", "Élodie", "Noël", "", "Anaïs", "Zo\x01e"}
	lasts := []string{"Dupont", "Dupond", "d'Artagnan", "Saint-Exupéry", "Lefèvre", "", "Brûlé", "Martin"}
	randContact := func(id string) Contact {
		c := Contact{ID: id, FirstName: firsts[r.IntN(len(firsts))], LastName: lasts[r.IntN(len(lasts))]}
		for range r.IntN(3) {
			c.Emails = append(c.Emails, fmt.Sprintf("%s%d@%s", []string{"h", "jp", "zoe+x", "Dupont"}[r.IntN(4)], r.IntN(20), []string{"ex.fr", "Mail.com"}[r.IntN(2)]))
		}
		for range r.IntN(3) {
			c.Phones = append(c.Phones, fmt.Sprintf("+33 %d %02d %02d", r.IntN(10), r.IntN(100), r.IntN(100)))
		}
		return c
	}
	queries := []string{
		"", "hel", "helene", "HÉLÈNE dup", "dupon", "dupont helene", "d'art", "dartagnan", "saint-ex",
		"jean-p", "zoe", "zoe+x1", "h1", "h1@ex.fr", "dupont1@mail.com", "123", "0612", "+33 6 12", "45 6",
		"3312", "noel", "martin zoe", "x", "-", "e", "zo\x01", "\x01e", "\x02h", "dupont 06 12", "1 2 3",
	}

	x := NewIndex()
	live := map[string]Contact{}
	check := func(step int) {
		for _, q := range queries {
			terms, all := parseQuery(q)
			var want []*doc
			for _, c := range live {
				d := newDoc(c)
				if all || (len(terms) > 0 && d.matchesAll(terms)) {
					want = append(want, d)
				}
			}
			slices.SortFunc(want, func(a, b *doc) int { return strings.Compare(a.sortKey, b.sortKey) })
			wantIDs := make([]string, 0, len(want))
			for _, d := range want {
				wantIDs = append(wantIDs, d.c.ID)
			}
			got := []string{}
			total := -1
			for off := 0; ; off += MaxLimit {
				res := x.Search(q, Page{Offset: off, Limit: MaxLimit})
				require.True(t, total == -1 || total == res.Total)
				total = res.Total
				for _, c := range res.Contacts {
					got = append(got, c.ID)
				}
				if len(res.Contacts) < MaxLimit {
					break
				}
			}
			require.Equal(t, len(wantIDs), total, "step %d query %q", step, q)
			require.Equal(t, wantIDs, got, "step %d query %q", step, q)
		}
	}
	for step := range 3000 {
		id := fmt.Sprintf("c%03d", r.IntN(800))
		switch r.IntN(10) {
		case 0, 1:
			x.Remove(id)
			delete(live, id)
		default:
			c := randContact(id)
			x.Put(c)
			live[id] = c
		}
		if step%250 == 0 {
			check(step)
		}
	}
	check(3000)
	assert.Equal(t, len(live), x.Len())
	x.mu.RLock()
	assert.NotNil(t, x.snap, "merges happened")
	x.mu.RUnlock()
}

func TestFoldTableMatchesNormalizer(t *testing.T) {
	for r := rune(0); r < 0x400; r++ {
		for _, s := range []string{string(r), "Ab" + string(r) + "\u0301z", string(r) + "É"} {
			require.Equal(t, foldSlow(s), Fold(s), "%q", s)
		}
	}
}

func FuzzFoldTable(f *testing.F) {
	for _, s := range []string{"Hélène", "e\u0301\u0327", "Œ\u0308", "ǅ", "ŉ", "\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Fold(s), foldSlow(s); got != want {
			t.Fatalf("Fold(%q) = %q, foldSlow = %q", s, got, want)
		}
	})
}

func TestRemovalsTriggerMerge(t *testing.T) {
	x := NewIndex()
	var cs []Contact
	for i := range 1000 {
		cs = append(cs, Contact{ID: fmt.Sprintf("c%04d", i), LastName: "Dupont", Emails: []string{fmt.Sprintf("c%d@x.fr", i)}})
	}
	x.PutAll(cs)
	for i := range 300 {
		x.Remove(fmt.Sprintf("c%04d", i))
	}
	x.mu.RLock()
	n, dead, delta := len(x.snap.docs), x.snap.ndead, len(x.delta)
	x.mu.RUnlock()
	assert.Equal(t, 0, delta)
	assert.Less(t, dead, deltaMax, "the dead were dropped by a merge")
	assert.Equal(t, 1000-300+dead, n)
	res := x.Search("dupont", Page{Limit: MaxLimit})
	assert.Equal(t, 700, res.Total)
	assert.Equal(t, "c0300", res.Contacts[0].ID)
	assert.Empty(t, x.ByAddress("c5@x.fr"))
}

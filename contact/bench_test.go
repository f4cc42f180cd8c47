package contact_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emailflow/emailflow/contact"
)

// benchContacts is the size of the benchmark index: 100,000 contacts, or
// 5,000 with -short (CI's smoke run of every benchmark, which checks that
// they run, not what they measure).
func benchContacts() int {
	if testing.Short() {
		return 5_000
	}
	return 100_000
}

var (
	firstNames = []string{
		"Hélène", "François", "Zoë", "Jérôme", "Amélie", "Gaëlle", "Noël", "Cécile",
		"Élodie", "Stéphane", "Benoît", "Anaïs", "Loïc", "Maëlle", "Joël", "Léa",
		"Chloé", "Inès", "Raphaël", "Mathéo", "Jean-Pierre", "Marie", "Sophie",
		"Thomas", "Nicolas", "Camille", "Lucas", "Manon", "Hugo", "Éric", "Agnès",
		"Aurélien", "Bérénice", "Clément", "Daphné", "Étienne", "Frédéric", "Géraldine",
	}
	lastNames = []string{
		"Dupont", "Martin", "Bernard", "Lefèvre", "Girard", "Bonnet", "Mercier",
		"Rousseau", "Lemaître", "Fournier", "Gauthier", "Perrin", "Chevalier",
		"Béranger", "Desprès", "Saint-Exupéry", "d'Artagnan", "Lefèbvre", "Brûlé",
	}
	syllables = []string{
		"bé", "ro", "lan", "ger", "mé", "chau", "fon", "teau", "ço", "vil", "lé",
		"mar", "tin", "dù", "pré", "gon", "nè", "ri", "cas", "sel", "lâ", "ber",
	}
	domains = []string{"example.fr", "orange.fr", "free.fr", "gmail.com", "laposte.net", "wanadoo.fr"}
)

var localPart = strings.NewReplacer(" ", "", "'", "")

// genContacts returns n reproducible French contacts.
func genContacts(n int) []contact.Contact {
	r := rand.New(rand.NewPCG(1, 2))
	cs := make([]contact.Contact, n)
	for i := range cs {
		first := firstNames[r.IntN(len(firstNames))]
		var last string
		if r.IntN(10) < 3 {
			last = lastNames[r.IntN(len(lastNames))]
		} else {
			var b strings.Builder
			for range 2 + r.IntN(2) {
				b.WriteString(syllables[r.IntN(len(syllables))])
			}
			r := []rune(b.String())
			last = strings.ToUpper(string(r[:1])) + string(r[1:])
		}
		local := localPart.Replace(contact.Fold(first + "." + last))
		c := contact.Contact{
			ID:        fmt.Sprintf("c%06d", i),
			FirstName: first,
			LastName:  last,
			Emails:    []string{fmt.Sprintf("%s%d@%s", local, i%97, domains[r.IntN(len(domains))])},
			Phones:    []string{fmt.Sprintf("+33 %d %02d %02d %02d %02d", 6+r.IntN(2), r.IntN(100), r.IntN(100), r.IntN(100), r.IntN(100))},
			Language:  "fr",
			UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		}
		if r.IntN(4) == 0 {
			c.Emails = append(c.Emails, fmt.Sprintf("%s.pro@%s", local, domains[r.IntN(len(domains))]))
			c.Phones = append(c.Phones, fmt.Sprintf("0%d %02d %02d %02d %02d", 1+r.IntN(5), r.IntN(100), r.IntN(100), r.IntN(100), r.IntN(100)))
		}
		cs[i] = c
	}
	return cs
}

var (
	benchOnce     sync.Once
	benchIndex    *contact.Index
	benchContactz []contact.Contact
)

func benchSetup(b *testing.B) (*contact.Index, []contact.Contact) {
	b.Helper()
	benchOnce.Do(func() {
		benchContactz = genContacts(benchContacts())
		benchIndex = contact.NewIndex()
		benchIndex.PutAll(benchContactz)
	})
	return benchIndex, benchContactz
}

// benchQueries returns reproducible queries of one kind, drawn from the
// generated contacts so that they match.
func benchQueries(kind string, cs []contact.Contact) []string {
	r := rand.New(rand.NewPCG(3, 4))
	qs := make([]string, 1024)
	for i := range qs {
		c := cs[r.IntN(len(cs))]
		switch kind {
		case "name-prefix":
			w := []rune(c.LastName)
			qs[i] = string(w[:min(len(w), 3+r.IntN(3))])
		case "full-email":
			qs[i] = c.Emails[0]
		case "phone-digits":
			d := contact.Digits(c.Phones[0])
			k := 2 + r.IntN(len(d)-8)
			qs[i] = d[k : k+6]
		case "two-words":
			qs[i] = c.FirstName + " " + c.LastName
		case "accents-folded":
			qs[i] = strings.ToUpper(contact.Fold(c.FirstName))
		case "one-letter":
			qs[i] = string([]rune(contact.Fold(c.LastName))[:1])
		case "blank":
			qs[i] = ""
		}
	}
	return qs
}

// BenchmarkSearch searches an index of 100,000 contacts. Besides ns/op it
// reports p99-ns, the 99th percentile of single searches, and hits/op, the
// mean Total.
func BenchmarkSearch(b *testing.B) {
	x, cs := benchSetup(b)
	for _, kind := range []string{"name-prefix", "full-email", "phone-digits", "two-words", "accents-folded", "one-letter", "blank"} {
		b.Run(kind, func(b *testing.B) { searchBench(b, x, benchQueries(kind, cs)) })
	}
	// The worst steady state: 255 changes not merged yet, checked one by one.
	y := contact.NewIndex()
	y.PutAll(cs)
	for _, c := range cs[:255] {
		c.UpdatedAt = c.UpdatedAt.Add(time.Hour)
		y.Put(c)
	}
	for _, kind := range []string{"two-words", "phone-digits"} {
		b.Run(kind+"-255-unmerged", func(b *testing.B) { searchBench(b, y, benchQueries(kind, cs)) })
	}
}

func searchBench(b *testing.B, x *contact.Index, qs []string) {
	b.ReportAllocs()
	lat := make([]time.Duration, 0, 1<<16)
	hits := 0
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		res := x.Search(qs[i%len(qs)], contact.Page{})
		lat = append(lat, time.Since(start))
		hits += res.Total
		if res.Total == 0 {
			b.Fatalf("no result for %q", qs[i%len(qs)])
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(hits)/float64(len(lat)), "hits/op")
}

// BenchmarkPutAll loads 100,000 contacts into an empty index, and reports
// the heap the index keeps.
func BenchmarkPutAll(b *testing.B) {
	cs := genContacts(benchContacts())
	var live float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		x := contact.NewIndex()
		x.PutAll(cs)
		runtime.GC()
		runtime.ReadMemStats(&after)
		live = float64(after.HeapAlloc) - float64(before.HeapAlloc)
		runtime.KeepAlive(x)
	}
	b.ReportMetric(live/(1<<20), "heap-MiB")
}

// BenchmarkPut replaces contacts one by one in an index of 100,000, merges
// included.
func BenchmarkPut(b *testing.B) {
	cs := genContacts(benchContacts())
	x := contact.NewIndex()
	x.PutAll(cs)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := cs[i%len(cs)]
		c.UpdatedAt = c.UpdatedAt.Add(time.Second)
		x.Put(c)
	}
}

func BenchmarkFold(b *testing.B) {
	for _, s := range []string{"dupont", "Dupont", "Hélène Lefèvre-Béranger"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				contact.Fold(s)
			}
		})
	}
}

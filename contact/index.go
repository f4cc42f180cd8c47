package contact

import (
	"maps"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Paging limits used by Index.Search.
const (
	// DefaultLimit is the page size used when Page.Limit is zero or negative.
	DefaultLimit = 20
	// MaxLimit is the largest page size Search returns; a larger
	// Page.Limit is reduced to it.
	MaxLimit = 200
)

// Page selects a window of search results: the results from position
// Offset (0-based; negative means 0) on, at most Limit of them (0 or less
// means DefaultLimit, more than MaxLimit means MaxLimit).
type Page struct {
	Offset int
	Limit  int
}

func (p Page) bounds() (offset, limit int) {
	offset, limit = max(p.Offset, 0), p.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	return offset, limit
}

// Result is one page of search results.
type Result struct {
	Contacts []Contact // the page, in the index's order; copies the caller owns
	Total    int       // how many contacts match, over all pages
}

// deltaMax is how many recent changes the index scans linearly before it
// merges them into its sorted arrays.
const deltaMax = 256

// Index is a concurrency-safe, in-memory search index over contacts. The
// zero value is an empty index ready to use; an Index must not be copied
// after first use.
//
// # Matching
//
// Search splits the query on spaces into terms; a contact is found when it
// matches every term. Both sides are folded with Fold, so case and accents
// never matter. A term matches a contact when:
//
//   - it is a prefix of a word of the first or last name. Names are cut
//     into words at spaces and punctuation, and a hyphenated or
//     apostrophised name is also indexed glued: "Saint-Exupéry" is found by
//     "saint", "exu", "saint-ex" and "saintex"; a term with punctuation must
//     match all of its parts ("jean-p" finds "Jean Pierre");
//   - or it is a prefix of one of the contact's addresses, normalized by
//     NormalizeAddress ("jean.dup", "jean.dupont@example.fr"). A term with
//     an "@" is matched against addresses only;
//   - or it looks like a phone number (digits, a leading "+", the
//     separators space ( ) - . /) with at least 3 digits once a leading
//     international prefix "00" or trunk prefix "0" is dropped, and those
//     digits occur anywhere in the digits of one of the contact's numbers.
//     So "+33 6 12 34 56 78" is found by "612345", "06 12 34 56 78",
//     "0612", "33612345678" and "+33 6 12 34 56 78": consecutive phone-like
//     words of a query are read as one number, so "dupont 06 12" is two
//     terms, a name and a number. The index knows no country codes: a number stored in national form,
//     "06 12 34 56 78", is found by "0612…" or "612…" but not by
//     "+33 6 12…".
//
// A blank query matches every contact; a query with no letter or digit
// matches none.
//
// # Order
//
// Results are ordered by folded last name, then folded first name, then
// ID; a contact without a name takes its primary address in place of the
// last name. The order is total, so paging is stable while the index does
// not change.
//
// # Cost
//
// The index keeps sorted arrays of folded name words and folded addresses,
// searched by binary search, the list of contacts for each 3-digit group
// of phone digits, and maps by ID and by exact address. A search costs a
// few binary searches and bitmap operations over the matches, never a scan
// of all contacts; at 100,000 contacts it takes tens of microseconds (see
// docs/contact.md).
//
// Changes are first kept in a short list checked contact by contact, and
// merged into the arrays every 256 changes by the Put or Remove that
// crosses the threshold. That call takes time linear in the size of the
// index (tens of milliseconds at 100,000 contacts), without blocking
// readers meanwhile. PutAll loads many contacts with a single merge; until
// it ends, searches check the loaded contacts one by one. Memory is linear
// in the number of contacts.
type Index struct {
	mu       sync.RWMutex
	byID     map[string]*doc
	byAddr   map[string][]*doc // normalized address → the live docs that have it
	snap     *snapshot         // sorted arrays; nil until the first merge
	frozen   []*doc            // docs being merged by the running merge
	delta    []*doc            // docs put since the last merge started
	building bool              // a merge is running
	killed   []*doc            // docs replaced or removed while a merge runs
}

// doc is one contact as indexed. Everything but ord and dead is immutable
// once the doc is created.
type doc struct {
	c        Contact
	sortKey  string
	words    []string // folded name words
	emails   []string // folded normalized addresses
	addrs    []string // normalized addresses
	digits   []string // phone digits, for numbers with at least minPhoneDigits
	hay      string   // words, addresses and digits with markers, see haystack
	digitsAt int      // where the digits start in hay
	ord      int      // position in Index.snap.docs; guarded by Index.mu
	dead     bool     // replaced or removed; guarded by Index.mu
}

// snapshot is the sorted part of the index. Only dead and ndead change
// after it is built (under Index.mu held for writing).
type snapshot struct {
	docs   []*doc          // sorted by sortKey; a doc's position is its ordinal
	names  []posting       // folded name words
	emails []posting       // folded normalized addresses
	phones *[1000][]uint32 // 3-digit gram → ordinals of the docs whose digits contain it
	dead   []uint64        // bitmap of ordinals replaced or removed since built
	ndead  int
}

type posting struct {
	key string
	ord uint32
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{byID: make(map[string]*doc), byAddr: make(map[string][]*doc)}
}

// Len returns the number of contacts in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byID)
}

// Put inserts c, or replaces the contact with the same ID. The index keeps
// its own copy (see Contact.Clone). A contact with an empty ID is ignored.
// Put does not validate c; see Contact.Validate.
func (x *Index) Put(c Contact) {
	if c.ID == "" {
		return
	}
	d := newDoc(c)
	x.mu.Lock()
	x.putLocked(d)
	merge := x.needMergeLocked()
	x.mu.Unlock()
	if merge {
		x.merge()
	}
}

// Insert adds c unless the index already has a contact with its ID, as
// one atomic step, and reports whether it added it. A contact with an
// empty ID is not added.
func (x *Index) Insert(c Contact) bool {
	if c.ID == "" {
		return false
	}
	d := newDoc(c)
	x.mu.Lock()
	if x.byID[c.ID] != nil {
		x.mu.Unlock()
		return false
	}
	x.putLocked(d)
	merge := x.needMergeLocked()
	x.mu.Unlock()
	if merge {
		x.merge()
	}
	return true
}

// PutAll is Put for many contacts at once, with at most one merge at the
// end: use it to load a directory. Later contacts replace earlier ones with
// the same ID.
func (x *Index) PutAll(cs []Contact) {
	docs := make([]*doc, 0, len(cs))
	for _, c := range cs {
		if c.ID != "" {
			docs = append(docs, newDoc(c))
		}
	}
	x.mu.Lock()
	for _, d := range docs {
		x.putLocked(d)
	}
	merge := x.needMergeLocked()
	x.mu.Unlock()
	if merge {
		x.merge()
	}
}

// Remove removes the contact with the given ID, if any.
func (x *Index) Remove(id string) {
	x.mu.Lock()
	d := x.byID[id]
	if d == nil {
		x.mu.Unlock()
		return
	}
	delete(x.byID, id)
	x.killLocked(d)
	merge := x.needMergeLocked()
	x.mu.Unlock()
	if merge {
		x.merge()
	}
}

// Get returns a copy of the contact with the given ID, and whether it is in
// the index.
func (x *Index) Get(id string) (Contact, bool) {
	x.mu.RLock()
	d := x.byID[id]
	x.mu.RUnlock()
	if d == nil {
		return Contact{}, false
	}
	return d.c.Clone(), true
}

// ByAddress returns copies of the contacts that have addr among their
// Emails, compared by NormalizeAddress, newest UpdatedAt first (ties by
// ID). It returns nil when none has it.
func (x *Index) ByAddress(addr string) []Contact {
	n := NormalizeAddress(addr)
	x.mu.RLock()
	ds := x.byAddr[n]
	var out []Contact
	if len(ds) > 0 {
		out = make([]Contact, len(ds))
		for i, d := range ds {
			out[i] = d.c.Clone()
		}
	}
	x.mu.RUnlock()
	sortMostRecent(out)
	return out
}

// Identify returns the contact an inbound message from addr belongs to:
// the only contact that has the address, or the one choose picks when
// several have it (MostRecent when choose is nil). It returns an error
// wrapping ErrNotFound when no contact has the address, and whatever error
// choose returns.
func (x *Index) Identify(addr string, choose Chooser) (Contact, error) {
	cs := x.ByAddress(addr)
	if choose == nil || len(cs) == 0 {
		return MostRecent(addr, cs)
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	return choose(addr, cs)
}

// Search returns the page of contacts matching query (see Index for the
// rules), and how many match in all.
func (x *Index) Search(query string, page Page) Result {
	terms, all := parseQuery(query)
	offset, limit := page.bounds()
	if !all && len(terms) == 0 {
		return Result{}
	}

	x.mu.RLock()
	defer x.mu.RUnlock()

	var hits []uint64 // matching ordinals of x.snap
	if s := x.snap; s != nil && len(s.docs) > 0 {
		hits = s.match(terms, all)
		defer putBits(hits)
	}
	// The few contacts not merged yet are checked one by one.
	if len(x.frozen)+len(x.delta) > 0 {
		for i := range terms {
			terms[i] = terms[i].withNeedles()
		}
	}
	var extra []*doc
	for _, list := range [2][]*doc{x.frozen, x.delta} {
		for _, d := range list {
			if !d.dead && (all || d.scanAll(terms)) {
				extra = append(extra, d)
			}
		}
	}
	slices.SortFunc(extra, func(a, b *doc) int { return strings.Compare(a.sortKey, b.sortKey) })

	res := Result{Total: len(extra)}
	for _, w := range hits {
		res.Total += bits.OnesCount64(w)
	}
	if offset >= res.Total {
		return res
	}
	window := make([]*doc, 0, min(limit, res.Total-offset))
	// Skip whole bitmap words that end before the page, with the unmerged
	// contacts that sort before their last ordinal; then walk the two
	// sorted streams in merged order up to the end of the page.
	pos, j, k := 0, 0, 0
	for ; k < len(hits); k++ {
		w := hits[k]
		if w == 0 {
			continue
		}
		last := x.snap.docs[k<<6+63-bits.LeadingZeros64(w)].sortKey
		e := j
		for e < len(extra) && extra[e].sortKey < last {
			e++
		}
		n := bits.OnesCount64(w) + e - j
		if pos+n > offset {
			break
		}
		pos, j = pos+n, e
	}
	ord := nextBit(hits, k<<6)
	for ; pos < offset+limit; pos++ {
		var d *doc
		switch {
		case ord >= 0 && (j == len(extra) || x.snap.docs[ord].sortKey < extra[j].sortKey):
			d = x.snap.docs[ord]
			ord = nextBit(hits, ord+1)
		case j < len(extra):
			d = extra[j]
			j++
		default:
			res.Contacts = clonePage(window)
			return res
		}
		if pos >= offset {
			window = append(window, d)
		}
	}
	res.Contacts = clonePage(window)
	return res
}

// clonePage returns copies of the contacts of docs, like Contact.Clone,
// with all their Emails and Phones in one shared backing array (each slice
// capped, so that appending to one never writes into the next).
func clonePage(docs []*doc) []Contact {
	n := 0
	for _, d := range docs {
		n += len(d.c.Emails) + len(d.c.Phones)
	}
	strs := make([]string, 0, n)
	out := make([]Contact, len(docs))
	for i, d := range docs {
		c := d.c
		if c.Emails != nil {
			k := len(strs)
			strs = append(strs, c.Emails...)
			c.Emails = strs[k:len(strs):len(strs)]
		}
		if c.Phones != nil {
			k := len(strs)
			strs = append(strs, c.Phones...)
			c.Phones = strs[k:len(strs):len(strs)]
		}
		if c.Attributes != nil {
			c.Attributes = maps.Clone(c.Attributes)
		}
		out[i] = c
	}
	return out
}

// putLocked adds d, replacing the doc with the same ID. x.mu is held.
func (x *Index) putLocked(d *doc) {
	if x.byID == nil {
		x.byID = make(map[string]*doc)
		x.byAddr = make(map[string][]*doc)
	}
	if old := x.byID[d.c.ID]; old != nil {
		x.killLocked(old)
	}
	x.byID[d.c.ID] = d
	for _, a := range d.addrs {
		x.byAddr[a] = append(x.byAddr[a], d)
	}
	x.delta = append(x.delta, d)
}

// killLocked forgets d, which was replaced or removed. x.mu is held.
func (x *Index) killLocked(d *doc) {
	d.dead = true
	for _, a := range d.addrs {
		ds := slices.DeleteFunc(x.byAddr[a], func(o *doc) bool { return o == d })
		if len(ds) == 0 {
			delete(x.byAddr, a)
		} else {
			x.byAddr[a] = ds
		}
	}
	if s := x.snap; s != nil && d.ord >= 0 && d.ord < len(s.docs) && s.docs[d.ord] == d {
		s.dead[d.ord>>6] |= 1 << (d.ord & 63)
		s.ndead++
	}
	if x.building {
		x.killed = append(x.killed, d)
	}
}

// needMergeLocked reports whether enough has changed to merge. x.mu is held.
func (x *Index) needMergeLocked() bool {
	if x.building {
		return false
	}
	if len(x.delta) >= deltaMax {
		return true
	}
	s := x.snap
	return s != nil && s.ndead >= max(deltaMax, len(s.docs)/8)
}

// merge builds a new snapshot from the current one and the docs put since,
// without holding the lock while it works, then installs it. Docs replaced
// or removed meanwhile are recorded by killLocked and marked dead in the new
// snapshot on installation.
func (x *Index) merge() {
	for {
		x.mu.Lock()
		if x.building || !x.needMergeLocked() {
			x.mu.Unlock()
			return
		}
		old := x.snap
		var dead []uint64
		if old != nil {
			dead = slices.Clone(old.dead)
		}
		add := make([]*doc, 0, len(x.delta))
		for _, d := range x.delta {
			if !d.dead {
				add = append(add, d)
			}
		}
		x.frozen, x.delta = add, nil
		x.building, x.killed = true, nil
		x.mu.Unlock()

		ns := build(old, dead, slices.Clone(add))

		x.mu.Lock()
		for i, d := range ns.docs {
			d.ord = i
		}
		for _, d := range x.killed {
			if d.ord >= 0 && d.ord < len(ns.docs) && ns.docs[d.ord] == d {
				ns.dead[d.ord>>6] |= 1 << (d.ord & 63)
				ns.ndead++
			}
		}
		x.snap, x.frozen = ns, nil
		x.building, x.killed = false, nil
		x.mu.Unlock()
	}
}

// build returns a snapshot with the live docs of old (those not set in
// dead) and the docs add, merging the already sorted arrays of old with
// the sorted postings of add in linear time.
func build(old *snapshot, dead []uint64, add []*doc) *snapshot {
	slices.SortFunc(add, func(a, b *doc) int { return strings.Compare(a.sortKey, b.sortKey) })
	var oldDocs []*doc
	if old != nil {
		oldDocs = old.docs
	}
	const gone = ^uint32(0)
	remap := make([]uint32, len(oldDocs)) // old ordinal → new ordinal or gone
	addOrd := make([]uint32, len(add))
	docs := make([]*doc, 0, len(oldDocs)+len(add))
	// copyOld moves the old docs [i, end) to docs, dropping the dead ones.
	i := 0
	copyOld := func(end int) {
		for ; i < end; i++ {
			if dead[i>>6]&(1<<(i&63)) != 0 {
				remap[i] = gone
				continue
			}
			remap[i] = uint32(len(docs))
			docs = append(docs, oldDocs[i])
		}
	}
	// add is short next to old: find each insertion point by binary search
	// rather than comparing every old key.
	for j, d := range add {
		copyOld(i + sort.Search(len(oldDocs)-i, func(k int) bool { return oldDocs[i+k].sortKey > d.sortKey }))
		addOrd[j] = uint32(len(docs))
		docs = append(docs, d)
	}
	copyOld(len(oldDocs))
	s := &snapshot{docs: docs, dead: make([]uint64, (len(docs)+63)/64)}
	var oldNames, oldEmails []posting
	var oldPhones *[1000][]uint32
	if old != nil {
		oldNames, oldEmails, oldPhones = old.names, old.emails, old.phones
	}
	s.names = mergePostings(oldNames, remap, add, addOrd, func(d *doc) []string { return d.words })
	s.emails = mergePostings(oldEmails, remap, add, addOrd, func(d *doc) []string { return d.emails })
	s.phones = mergeGrams(oldPhones, remap, add, addOrd)
	return s
}

// mergePostings returns the postings of old that remap keeps, with their
// new ordinals, merged with the postings of the keys of the docs add.
func mergePostings(old []posting, remap []uint32, add []*doc, addOrd []uint32, keys func(*doc) []string) []posting {
	var fresh []posting
	for j, d := range add {
		for _, k := range keys(d) {
			fresh = append(fresh, posting{k, addOrd[j]})
		}
	}
	slices.SortFunc(fresh, func(a, b posting) int { return strings.Compare(a.key, b.key) })
	out := make([]posting, 0, len(old)+len(fresh))
	i := 0
	copyOld := func(end int) {
		for _, p := range old[i:end] {
			if ord := remap[p.ord]; ord != ^uint32(0) {
				out = append(out, posting{p.key, ord})
			}
		}
		i = end
	}
	for _, f := range fresh {
		copyOld(i + sort.Search(len(old)-i, func(k int) bool { return old[i+k].key > f.key }))
		out = append(out, f)
	}
	copyOld(len(old))
	return slices.Clip(out)
}

// mergeGrams returns the phone gram lists of old, with the ordinals remap
// keeps renumbered, plus the grams of the docs add.
func mergeGrams(old *[1000][]uint32, remap []uint32, add []*doc, addOrd []uint32) *[1000][]uint32 {
	out := new([1000][]uint32)
	if old != nil {
		for g, ords := range old {
			if len(ords) == 0 {
				continue
			}
			l := make([]uint32, 0, len(ords)+len(ords)/8)
			for _, o := range ords {
				if n := remap[o]; n != ^uint32(0) {
					l = append(l, n)
				}
			}
			out[g] = l
		}
	}
	for j, d := range add {
		ord := addOrd[j]
		for _, digits := range d.digits {
			for k := 0; k+minPhoneDigits <= len(digits); k++ {
				g := gram(digits[k:])
				if l := out[g]; len(l) == 0 || l[len(l)-1] != ord {
					out[g] = append(l, ord)
				}
			}
		}
	}
	return out
}

// gram returns the number 0-999 made of the first three digits of s.
func gram(s string) int {
	return int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
}

// match returns the bitmap of the live ordinals matching every term (or
// all live ordinals), from the pool.
func (s *snapshot) match(terms []term, all bool) []uint64 {
	n := len(s.docs)
	var hits []uint64
	if all {
		hits = getBits(len(s.dead))
		for i := range hits {
			hits[i] = ^uint64(0)
		}
		if r := n & 63; r != 0 {
			hits[len(hits)-1] = 1<<r - 1
		}
	} else {
		for i := range terms {
			tb := s.termHits(&terms[i])
			if hits == nil {
				hits = tb
				continue
			}
			andBits(hits, tb)
			putBits(tb)
		}
	}
	for k := range hits {
		hits[k] &^= s.dead[k]
	}
	return hits
}

// termHits returns the bitmap of the ordinals matching t, from the pool.
func (s *snapshot) termHits(t *term) []uint64 {
	hits := getBits(len(s.dead))
	if t.email != "" {
		setPrefix(hits, s.emails, t.email)
	}
	switch len(t.words) {
	case 0:
	case 1:
		setPrefix(hits, s.names, t.words[0])
	default:
		and := getBits(len(hits))
		setPrefix(and, s.names, t.words[0])
		wb := getBits(len(hits))
		for _, w := range t.words[1:] {
			clear(wb)
			setPrefix(wb, s.names, w)
			andBits(and, wb)
		}
		orBits(hits, and)
		putBits(and)
		putBits(wb)
	}
	if t.digits != "" {
		s.setDigits(hits, t.digits)
	}
	return hits
}

// setDigits sets in hits the ordinals of the docs that have a number whose
// digits contain q (at least minPhoneDigits long). It intersects the lists
// of a few of q's rarest 3-digit grams, then checks the survivors.
func (s *snapshot) setDigits(hits []uint64, q string) {
	if len(q) == minPhoneDigits {
		for _, o := range s.phones[gram(q)] {
			hits[o>>6] |= 1 << (o & 63)
		}
		return
	}
	// The rarest grams, at most 4 of them.
	var pick [4]int
	n := 0
	for k := 0; k+minPhoneDigits <= len(q); k++ {
		g := gram(q[k:])
		if slices.Contains(pick[:n], g) {
			continue
		}
		if n < len(pick) {
			pick[n] = g
			n++
		} else {
			worst := 0
			for i := 1; i < n; i++ {
				if len(s.phones[pick[i]]) > len(s.phones[pick[worst]]) {
					worst = i
				}
			}
			if len(s.phones[g]) < len(s.phones[pick[worst]]) {
				pick[worst] = g
			}
		}
	}
	cand := getBits(len(hits))
	defer putBits(cand)
	for _, o := range s.phones[pick[0]] {
		cand[o>>6] |= 1 << (o & 63)
	}
	if n > 1 {
		gb := getBits(len(hits))
		for _, g := range pick[1:n] {
			clear(gb)
			for _, o := range s.phones[g] {
				gb[o>>6] |= 1 << (o & 63)
			}
			andBits(cand, gb)
		}
		putBits(gb)
	}
	for o := nextBit(cand, 0); o >= 0; o = nextBit(cand, o+1) {
		for _, digits := range s.docs[o].digits {
			if strings.Contains(digits, q) {
				hits[o>>6] |= 1 << (o & 63)
				break
			}
		}
	}
}

// setPrefix sets in hits the ordinals of the postings whose key starts with
// prefix. Both ends of the range are found by binary search.
func setPrefix(hits []uint64, ps []posting, prefix string) {
	lo := sort.Search(len(ps), func(i int) bool { return ps[i].key >= prefix })
	hi := lo + sort.Search(len(ps)-lo, func(i int) bool { return !strings.HasPrefix(ps[lo+i].key, prefix) })
	for _, p := range ps[lo:hi] {
		hits[p.ord>>6] |= 1 << (p.ord & 63)
	}
}

// bitsPool recycles the per-search bitmaps (12.5 KiB at 100,000 contacts),
// sparing the garbage collector.
var bitsPool sync.Pool

// getBits returns a zeroed bitmap of n words.
func getBits(n int) []uint64 {
	if p, ok := bitsPool.Get().(*[]uint64); ok && cap(*p) >= n {
		b := (*p)[:n]
		clear(b)
		return b
	}
	return make([]uint64, n)
}

// putBits returns b to the pool.
func putBits(b []uint64) {
	if b != nil {
		bitsPool.Put(&b)
	}
}

func andBits(dst, src []uint64) {
	for k := range dst {
		dst[k] &= src[k]
	}
}

func orBits(dst, src []uint64) {
	for k := range dst {
		dst[k] |= src[k]
	}
}

// nextBit returns the first set bit of b at or after i, or -1.
func nextBit(b []uint64, i int) int {
	k := i >> 6
	if k >= len(b) {
		return -1
	}
	w := b[k] >> (i & 63)
	if w != 0 {
		return i + bits.TrailingZeros64(w)
	}
	for k++; k < len(b); k++ {
		if b[k] != 0 {
			return k<<6 + bits.TrailingZeros64(b[k])
		}
	}
	return -1
}

// newDoc prepares c for indexing.
func newDoc(c Contact) *doc {
	d := &doc{c: c.Clone(), ord: -1}
	d.words = splitWords(nil, Fold(c.FirstName))
	d.words = splitWords(d.words, Fold(c.LastName))
	d.words = dedup(d.words)
	for _, e := range c.Emails {
		if n := NormalizeAddress(e); n != "" {
			d.addrs = append(d.addrs, n)
			d.emails = append(d.emails, Fold(n))
		}
	}
	d.addrs, d.emails = dedup(d.addrs), dedup(d.emails)
	for _, p := range c.Phones {
		if g := Digits(p); len(g) >= minPhoneDigits {
			d.digits = append(d.digits, g)
		}
	}
	d.digits = dedup(d.digits)
	d.hay, d.digitsAt = haystack(d)
	last := Fold(strings.TrimSpace(c.LastName))
	first := Fold(strings.TrimSpace(c.FirstName))
	if last == "" && first == "" {
		if len(d.emails) > 0 {
			last = Fold(NormalizeAddress(c.Emails[0]))
		} else if len(c.Phones) > 0 {
			last = Digits(c.Phones[0])
		}
	}
	d.sortKey = last + "\x00" + first + "\x00" + c.ID
	return d
}

// dedup sorts ss and removes duplicates, in place.
func dedup(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	slices.Sort(ss)
	return slices.Compact(ss)
}

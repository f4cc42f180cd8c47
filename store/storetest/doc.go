// Package storetest is the conformance suite of emailflow storage adapters,
// in the manner of testing/fstest.TestFS: an adapter's own tests call Run
// with a function that makes an empty store, and Run checks every rule the
// emailflow.Store and emailflow.Tx ports document, plus those of
// emailflow.Directory when the store implements it.
//
// A typical use, in an adapter's package:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) emailflow.Store {
//			db := openEmptyDatabase(t) // dropped by a t.Cleanup
//			return postgres.New(db, nil)
//		})
//	}
//
// Run calls the function once per subtest, so each subtest starts from an
// empty store; use the *testing.T it receives for cleanups. Some subtests
// race goroutines against one store: run the suite with -race.
//
// Values read back are compared with the values written after moving every
// time.Time to UTC and treating an empty slice or map as nil, so an adapter
// may return times in another location and empty collections in either form.
// The suite only writes whole-second times, so a store that keeps
// microseconds (PostgreSQL's timestamptz) round-trips them exactly. It does
// not assume that event sequence numbers start at 1 or have no gaps, nor
// that ids it did not write exist; it does assume that an interaction,
// email, outbox item or agent it wrote is readable by the id it chose.
package storetest

package postgres_test

import "github.com/emailflow/emailflow"

// errOf is the error of a call that also returns a value the check does
// not need.
func errOf[T any](_ T, err error) error { return err }

// draftEmail is the email of a draft a call returned.
func draftEmail(d *emailflow.Draft, err error) (*emailflow.Email, error) {
	if err != nil {
		return nil, err
	}
	return d.Email, nil
}

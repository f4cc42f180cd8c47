package contact_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/emailflow/emailflow/contact"
)

func ExampleFold() {
	for _, s := range []string{"Hélène", "HELENE", "François", "Œuvre", "Straße"} {
		fmt.Println(s, "→", contact.Fold(s))
	}
	// Output:
	// Hélène → helene
	// HELENE → helene
	// François → francois
	// Œuvre → oeuvre
	// Straße → strasse
}

func ExampleNormalizeAddress() {
	fmt.Println(contact.NormalizeAddress(" Jean+Shop@X.fr "))
	// Output: jean+shop@x.fr
}

func ExampleIndex_Search() {
	x := contact.NewIndex()
	x.PutAll([]contact.Contact{
		{ID: "1", FirstName: "Hélène", LastName: "Dupont", Emails: []string{"helene@example.fr"}, Phones: []string{"+33 6 12 34 56 78"}},
		{ID: "2", FirstName: "Helena", LastName: "Martin", Emails: []string{"h.martin@example.fr"}},
		{ID: "3", FirstName: "Zoë", LastName: "Dupont", Emails: []string{"zoe@example.fr"}},
	})

	for _, q := range []string{"helene", "HEL", "dupont", "helene dupont", "0612", "zoe@example.fr"} {
		res := x.Search(q, contact.Page{})
		fmt.Printf("%-15q %d:", q, res.Total)
		for _, c := range res.Contacts {
			fmt.Printf(" %s;", c.DisplayName())
		}
		fmt.Println()
	}

	// Paging: the second page of one result per page.
	res := x.Search("dupont", contact.Page{Offset: 1, Limit: 1})
	fmt.Println(res.Total, res.Contacts[0].DisplayName())
	// Output:
	// "helene"        1: Hélène Dupont;
	// "HEL"           2: Hélène Dupont; Helena Martin;
	// "dupont"        2: Hélène Dupont; Zoë Dupont;
	// "helene dupont" 1: Hélène Dupont;
	// "0612"          1: Hélène Dupont;
	// "zoe@example.fr" 1: Zoë Dupont;
	// 2 Zoë Dupont
}

func ExampleIndex_Identify() {
	t := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	x := contact.NewIndex()
	x.Put(contact.Contact{ID: "a", LastName: "Dupont (old)", Emails: []string{"famille@example.fr"}, UpdatedAt: t})
	x.Put(contact.Contact{ID: "b", LastName: "Dupont", Emails: []string{"Famille@Example.fr"}, UpdatedAt: t.Add(time.Hour)})

	// Two contacts share the address: by default the most recently updated wins.
	c, _ := x.Identify("FAMILLE@example.fr", nil)
	fmt.Println(c.ID)

	// A host may decide otherwise, or refuse and let an agent choose.
	errAmbiguous := errors.New("several contacts share the address")
	_, err := x.Identify("famille@example.fr", func(addr string, cands []contact.Contact) (contact.Contact, error) {
		return contact.Contact{}, errAmbiguous
	})
	fmt.Println(err)

	_, err = x.Identify("nobody@example.fr", nil)
	fmt.Println(errors.Is(err, contact.ErrNotFound))
	// Output:
	// b
	// several contacts share the address
	// true
}

func ExampleContact_Validate() {
	c := contact.Contact{FirstName: "Hélène", Emails: []string{"helene at example.fr"}}
	err := c.Validate()
	fmt.Println(errors.Is(err, contact.ErrInvalidInput))
	var fe *contact.FieldError
	if errors.As(err, &fe) {
		fmt.Println(fe.Field)
	}
	// Output:
	// true
	// Emails[0]
}

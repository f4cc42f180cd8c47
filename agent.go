package emailflow

import (
	"net/mail"
)

// Privilege is one permission checked by the Workspace.
type Privilege string

// Privileges.
const (
	PrivilegeHandle   Privilege = "handle"   // accept, reply, notes, case data, mark done
	PrivilegeForward  Privilege = "forward"  // forward to an external address
	PrivilegeTransfer Privilege = "transfer" // transfer to an agent or a queue
	PrivilegeDelete   Privilege = "delete"   // delete an interaction
	PrivilegePull     Privilege = "pull"     // take the next interaction from a queue
	PrivilegeConsult  Privilege = "consult"  // consult colleagues
	PrivilegeAssign   Privilege = "assign"   // move or assign others' interactions
	PrivilegeReview   Privilege = "review"   // approve or reject outbound email
	PrivilegeHistory  Privilege = "history"  // read contacts' history and open past interactions
	PrivilegeCall     Privilege = "call"     // call a contact through the Dialer
	PrivilegeDialAny  Privilege = "dial-any" // call any number, not only the contact's own
	// PrivilegeSupervise lets an agent see every interaction of the queues
	// they serve (Agent.Queues), as a team lead or supervisor does.
	PrivilegeSupervise Privilege = "supervise"
	// PrivilegeAdmin lets an agent see every interaction: the host's
	// administrator.
	PrivilegeAdmin Privilege = "admin"
	// PrivilegeFilter lets an agent edit the sender lists and release or
	// delete quarantined mail they may see.
	PrivilegeFilter Privilege = "filter"
)

// String returns the privilege name.
func (p Privilege) String() string { return string(p) }

// DefaultPrivileges is the privilege set per role used when
// Options.Privileges is nil: agents handle, forward, transfer, pull,
// consult, read history and call; reviewers handle, pull, review and read
// history; supervisors do what agents do, and also review (never their own
// email), supervise their queues, assign and delete, edit the sender
// lists and release or delete quarantined mail; the admin sees everything
// and reads history. Nobody may dial any number by default
// (PrivilegeDialAny).
var DefaultPrivileges = map[Role][]Privilege{
	RoleAgent:    {PrivilegeHandle, PrivilegeForward, PrivilegeTransfer, PrivilegePull, PrivilegeConsult, PrivilegeHistory, PrivilegeCall},
	RoleReviewer: {PrivilegeHandle, PrivilegePull, PrivilegeReview, PrivilegeHistory},
	RoleSupervisor: {PrivilegeHandle, PrivilegeForward, PrivilegeTransfer, PrivilegePull, PrivilegeConsult, PrivilegeHistory, PrivilegeCall,
		PrivilegeReview, PrivilegeSupervise, PrivilegeAssign, PrivilegeDelete, PrivilegeFilter},
	RoleAdmin: {PrivilegeAdmin, PrivilegeHistory},
}

// mailAddress is the agent's name and address as a mail address.
func mailAddress(a *Agent) mail.Address { return mail.Address{Name: a.Name, Address: a.Address} }

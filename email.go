package emailflow

// fromCustomer reports whether e is mail the customer wrote to us: not
// ours, not a resource's answer, a delivery report or an automatic
// answer kept on the conversation.
func fromCustomer(e *Email) bool {
	return e.Direction == Inbound && !e.IsResourceAnswer() && !e.IsBounce() && !e.Automatic
}

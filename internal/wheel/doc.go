// Package wheel is the hashed timing wheel that the server's and the load
// generator's event loops use in place of a timer per connection.
//
// The wheel is intrusive: it owns no nodes and allocates nothing after
// Init. Each element carries its own links (a previous and a next pointer
// and a slot index) in fields of its own struct, and the wheel reaches them
// through an [Access] type supplied as a type parameter. That keeps an idle
// connection's cost at the fields it already has, which matters at a
// million connections per process.
//
// Deadlines are coarse and lazy. An element is due in the first tick that
// starts at or after its deadline, so it never fires early; one further
// than the wheel's span ahead is parked in the farthest slot and handed to
// the fire callback when that slot comes round, and the caller, which
// knows the real deadline, adds it back. Callers that record activity as a
// timestamp (rather than rescheduling per message) therefore pay nothing
// here per message.
//
// A Wheel belongs to one goroutine (an event loop); none of its methods may
// be called concurrently.
package wheel

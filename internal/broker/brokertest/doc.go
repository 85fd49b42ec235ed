// Package brokertest helps test code that talks to a broker through a
// link that stops: StartStallProxy puts a TCP proxy between a NATS client
// and a real nats-server whose client-to-server direction can be stopped
// and resumed, and Jam fills the stopped link so that the client's
// nats.go connection blocks in a write holding its lock, as on a slow or
// stuck broker.
//
// It does not import package broker, so broker's own tests may use it.
// Its helpers fail the test through t; StallProxy's methods may be called
// from any goroutine.
package brokertest

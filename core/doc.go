// Package core is assistbot's domain: conversations, remote-support
// sessions and their state machine, PIN rules, the outbox's entries, and
// the interfaces the rest of the program plugs into (Store, Provider,
// Channel, Courier, Clock, PINSource). It imports only the standard
// library. The outbox worker, which delivers those entries, is package
// core/outbox.
//
// A session moves through these states; any other move is refused with a
// *TransitionError (code invalid_transition):
//
//	state    meaning                                      from                     action
//	issued   PIN generated, card shown to the agent        (new), issued, sent,     issue, regenerate
//	                                                       expired
//	sent     a link was delivered to the customer          issued, sent             send
//	waiting  the customer opened the link and pressed      issued, sent             join
//	         Start (or typed the PIN)
//	active   the technician started, mode control or view  waiting                  start
//	ended    the remote session finished                   waiting, active          end
//	closed   the agent closed it before it became active   issued, sent, waiting    close
//	expired  the PIN lifetime passed before the customer   issued, sent             expire
//	         joined
//
// A session past its PIN lifetime reads as expired at once (Session.Current);
// the engine's sweeper records the expiry in the log and alerts the desk.
// Every change is written with its events and outbox deliveries in one
// store transaction, then published on the Hub.
package core

-- Reports (core.ReportStore) count the sessions issued in each period
-- from the event log.
--
-- The issue events, one a session, are found by their time: this index
-- holds them alone, and is appended to as time goes on.
CREATE INDEX events_issued ON events (at, session_seq) WHERE action = 'issue';

-- Each session's log is then read for what it counts (actions and
-- times, the rowid being the event's id) from this index alone, without
-- the table's rows. It replaces events_session, of which it is an
-- extension, so that writing an event costs no more index entries than
-- before; reading a session's log (by session_seq) uses it as well.
DROP INDEX events_session;
CREATE INDEX events_report ON events (session_seq, action, at);

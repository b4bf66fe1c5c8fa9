-- The writer keeps report_sessions from here on (report_rows.go), in the
-- transaction that writes a session or its log, instead of these
-- triggers. A trigger makes each INSERT into sessions or events, and each
-- UPDATE of sessions, a statement that writes two tables; SQLite journals
-- such a statement on its own, inside the transaction, so that it can
-- undo it alone, and copies to that journal every page the statement
-- changes that an earlier one of the transaction had changed. The writer
-- commits many requests in one transaction, all of them changing the same
-- last pages of each index: the copies were a fifth of what a /remote
-- cost. Statements that write one table need no such journal.
--
-- A conversation's customer channel changes rarely, and on the path of no
-- command: report_sessions_channel stays a trigger.
DROP TRIGGER report_sessions_insert;
DROP TRIGGER report_sessions_update;
DROP TRIGGER report_sessions_issue;
DROP TRIGGER report_sessions_send;
DROP TRIGGER report_sessions_join;
DROP TRIGGER report_sessions_start;
DROP TRIGGER report_sessions_end;
DROP TRIGGER report_sessions_close;
DROP TRIGGER report_sessions_expire;
DROP TRIGGER report_sessions_regenerate;

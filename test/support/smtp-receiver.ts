/** A real SMTP server on loopback (the smtp-server package) that keeps every mail it receives. */
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  /** The message as sent: headers and body. */
  data: string;
}

export async function startSmtpReceiver(): Promise<{ port: number; mail: ReceivedMail[]; close(): Promise<void> }> {
  const mail: ReceivedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        mail.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  return { port: (smtp.server.address() as { port: number }).port, mail, close: () => new Promise<void>((r) => smtp.close(() => r())) };
}

// The yardstick of the benchmark kit: Slack's Bolt for JavaScript
// answering the load generator's signed /remote commands with a fixed
// ephemeral card, storing nothing. See docs/development.md#benchmarks.
//
//   npm install && SECRET=load-test-signing-secret PORT=3999 node app.js
const { App } = require('@slack/bolt');

const app = new App({
  signingSecret: process.env.SECRET || 'load-test-signing-secret',
  token: 'xoxb-load-test',
  // Known ids, so that Bolt calls no Slack API (there is none to reach).
  botId: 'B0LOAD',
  botUserId: 'U0LOADBOT',
  tokenVerificationEnabled: false,
  endpoints: '/slack/commands',
});

const card = {
  response_type: 'ephemeral',
  text: 'Remote support: PIN 123 456',
  blocks: [
    { type: 'section', text: { type: 'mrkdwn', text: '*Remote support*\nPIN `123 456`, valid for 20 minutes' } },
    {
      type: 'actions',
      elements: [
        { type: 'button', action_id: 'send_desktop', text: { type: 'plain_text', text: 'Send desktop link' } },
        { type: 'button', action_id: 'send_mobile', text: { type: 'plain_text', text: 'Send mobile link' } },
      ],
    },
  ],
};

app.command('/remote', async ({ ack }) => {
  await ack(card);
});

(async () => {
  const port = Number(process.env.PORT || 3999);
  await app.start(port);
  console.log(`bolt is answering /remote on port ${port}`);
})();

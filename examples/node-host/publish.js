'use strict';
// Publish one userbus `user.created` event from a Node.js host with a plain AMQP client.
//
// Follows docs/wire-format.md: a CloudEvents 1.0 structured-mode JSON body on the durable topic
// exchange, persistent, mandatory (an event no app queue is bound for comes back instead of
// vanishing) and confirmed by the broker (ConfirmChannel).
//
//   USERBUS_AMQP_URL=amqp://guest:guest@localhost:5672/ node publish.js
//
// Optional: USERBUS_EXCHANGE (default userbus.users), USERBUS_SOURCE (default /chat/node-host),
// USERBUS_USER_ID (default: a new id). Prints {"eventId", "userId", "routingKey"} as JSON on
// success; exits 1 on error, 2 when the broker returned the event as unroutable.

const crypto = require('node:crypto');
const amqp = require('amqplib');

const url = process.env.USERBUS_AMQP_URL || 'amqp://guest:guest@localhost:5672/';
const exchange = process.env.USERBUS_EXCHANGE || 'userbus.users';
const source = process.env.USERBUS_SOURCE || '/chat/node-host';
const CONFIRM_TIMEOUT_MS = 10_000;

class UnroutableError extends Error {}

function maskUrl(value) {
  return value.replace(/(?<=:\/\/)([^:/@]*):[^@/]*@/, '$1:***@');
}

// The payload of user.created (IUserContext): camelCase field names; only user.id is required.
function userCreated(userId) {
  const now = new Date().toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ, as the engine writes dates
  return {
    user: {
      id: userId,
      username: 'node.alice',
      name: 'Alice (Node host)',
      emails: [{ address: 'alice@example.com', verified: false }],
      type: 'user',
      isEnabled: true,
      roles: ['user'],
      status: 'offline',
      statusConnection: 'offline',
      utcOffset: 0,
      createdAt: now,
      updatedAt: now,
    },
    performedBy: { id: 'admin1', username: 'admin', type: 'user', roles: ['admin'] },
  };
}

// The CloudEvents 1.0 structured-mode envelope: the whole message body.
function envelope(routingKey, data) {
  return {
    specversion: '1.0',
    id: crypto.randomUUID(),
    source,
    type: `userbus.${routingKey}`,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    subject: data.user.id,
    data,
  };
}

// Publish and wait for the broker's confirm; fail if the broker returned or nacked the event.
function publishConfirmed(channel, routingKey, event) {
  const body = Buffer.from(JSON.stringify(event));
  return new Promise((resolve, reject) => {
    let returned = false;
    // RabbitMQ sends basic.return before the confirm of the same (unroutable) message.
    const onReturn = (msg) => {
      if (msg.properties.messageId === event.id) returned = true;
    };
    const timer = setTimeout(() => {
      finish(new Error(`no confirm for event ${event.id} within ${CONFIRM_TIMEOUT_MS} ms`));
    }, CONFIRM_TIMEOUT_MS);
    function finish(err) {
      clearTimeout(timer);
      channel.off('return', onReturn);
      if (err) reject(err);
      else resolve();
    }
    channel.on('return', onReturn);
    channel.publish(
      exchange,
      routingKey,
      body,
      {
        contentType: 'application/cloudevents+json',
        messageId: event.id,
        type: event.type,
        timestamp: Math.floor(Date.parse(event.time) / 1000), // AMQP timestamps are seconds
        persistent: true, // delivery_mode 2
        mandatory: true,
        appId: 'node-host',
      },
      (err) => {
        if (err) finish(new Error(`the broker nacked event ${event.id}`));
        else if (returned)
          finish(new UnroutableError(`event ${event.id}: no queue is bound for ${routingKey}`));
        else finish(null);
      },
    );
  });
}

async function main() {
  const connection = await amqp.connect(url);
  connection.on('error', () => {}); // reported through the failing publish instead
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', () => {}); // a closed channel fails the pending publish instead
    // Idempotent: matches what userbus declares (topic, durable). With least-privilege
    // credentials use channel.checkExchange(exchange) instead.
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const routingKey = 'user.created';
    const userId = process.env.USERBUS_USER_ID || `u-${crypto.randomUUID()}`;
    const event = envelope(routingKey, userCreated(userId));
    await publishConfirmed(channel, routingKey, event);
    console.log(JSON.stringify({ eventId: event.id, userId, routingKey }));
    await channel.close();
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(`publish failed (broker ${maskUrl(url)}): ${err.message}`);
  process.exit(err instanceof UnroutableError ? 2 : 1);
});

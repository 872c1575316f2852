// GM roles in order; a page or action names the least role it needs.
const ROLES = ['agent', 'lead', 'supervisor', 'admin'];
export const atLeast = (me, role) => ROLES.indexOf(me.role) >= ROLES.indexOf(role);

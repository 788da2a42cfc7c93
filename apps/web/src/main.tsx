import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
// tokens, base and primitives first, so feature stylesheets (imported by their components) cascade after them
import './styles.css';
import { App } from './app/App';
import { Providers } from './app/providers';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Providers>
      <App />
    </Providers>
  </StrictMode>,
);
